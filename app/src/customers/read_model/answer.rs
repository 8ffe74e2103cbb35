//! Questions answered from an organisation's columns: the conditions compiled against them,
//! one pass that adds up each customer's figures, and the page selected (not sorted) from
//! them. Every loop looks at the question's deadline.

use super::columns::{channel_bit, Cells, Facts};
use super::search::{SearchIndex, SEARCH_SEPARATOR};
use super::selection::Selection;
use super::work::Deadline;
use super::{Conditions, PageQuestion};
use crate::customers::query::{SortDir, SortKey};
use crate::customers::question::{average_drop, ChangeGroup, CustomerSummary, Matcher};
use crate::db::StoreResult;
use crate::page::{Page, Paging};
use std::cmp::Ordering;
use std::mem::size_of;
use std::sync::{Arc, OnceLock};

/// Per-customer figures over the conversations that count.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Figures {
    interactions: u32,
    first_ms: i64,
    latest_ms: i64,
    score_sum: i64,
}

impl Figures {
    #[inline]
    fn add(&mut self, at: i64, score: i64) {
        if self.interactions == 0 {
            self.first_ms = at;
            self.latest_ms = at;
        } else {
            self.first_ms = self.first_ms.min(at);
            self.latest_ms = self.latest_ms.max(at);
        }
        self.interactions += 1;
        self.score_sum += score;
    }

    /// The average as the database computes it (an IEEE division), so ties agree.
    fn average(&self) -> f64 {
        self.score_sum as f64 / f64::from(self.interactions)
    }
}

/// Every sort key in both directions.
const ORDERS: usize = SortKey::ALL.len() * 2;

/// The unconditioned figures and, built on first use, each sort order of the listed customers.
pub(super) struct Overall {
    figures: Vec<Figures>,
    orders: [OnceLock<Vec<u32>>; ORDERS],
}

impl Overall {
    pub(super) fn bytes(&self) -> usize {
        self.figures.capacity() * size_of::<Figures>()
            + self
                .orders
                .iter()
                .filter_map(OnceLock::get)
                .map(|order| order.capacity() * size_of::<u32>())
                .sum::<usize>()
    }

    /// The bytes for `customers` customers with `orders` sort orders built.
    pub(super) fn bytes_for(customers: usize, orders: usize) -> usize {
        customers * (size_of::<Figures>() + orders * size_of::<u32>())
    }
}

enum Accepts {
    /// A select value: this one code.
    Code(u32),
    /// A text filter: the codes whose value contains the text.
    Codes(Vec<bool>),
}

impl Accepts {
    #[inline]
    fn accepts(&self, code: u32) -> bool {
        match self {
            Accepts::Code(wanted) => code == *wanted,
            Accepts::Codes(set) => set.get(code as usize).copied().unwrap_or(false),
        }
    }
}

/// [`Conditions`] compiled against one organisation's columns.
struct Filter<'a> {
    from_ms: i64,
    until_ms: i64,
    /// One bit per channel code.
    channels: u8,
    representative: Option<u32>,
    fields: Vec<(&'a Cells, Accepts)>,
    customers: Option<Vec<bool>>,
}

impl Default for Filter<'_> {
    fn default() -> Self {
        Filter {
            from_ms: i64::MIN,
            until_ms: i64::MAX,
            channels: 0xff,
            representative: None,
            fields: Vec::new(),
            customers: None,
        }
    }
}

/// Where the question's page lands among `total` customers.
fn place(question: &PageQuestion, total: usize) -> Paging {
    Paging::new(question.page, total as i64, question.page_size)
}

impl Facts {
    fn overall(&self, deadline: &Deadline) -> StoreResult<&Overall> {
        if let Some(overall) = self.overall.get() {
            return Ok(overall);
        }
        let figures = self.figures(&Filter::default(), deadline)?;
        Ok(self.overall.get_or_init(|| Overall {
            figures,
            orders: Default::default(),
        }))
    }

    /// Figures per customer over the conversations that pass `filter`.
    ///
    /// The conversations that pass are found as a bit set, narrowed by one tight loop per
    /// active predicate; only then are the figures of the conversations left added up.
    fn figures(&self, filter: &Filter, deadline: &Deadline) -> StoreResult<Vec<Figures>> {
        let mut figures = vec![Figures::default(); self.customer_id.len()];
        let mut passing = Selection::new(&self.score, |score| score >= 0, deadline)?;
        if filter.from_ms != i64::MIN || filter.until_ms != i64::MAX {
            let (from, until) = (filter.from_ms, filter.until_ms);
            passing.keep(
                &self.occurred_at_ms,
                |at| at >= from && at < until,
                deadline,
            )?;
        }
        if filter.channels != u8::MAX {
            let channels = filter.channels;
            passing.keep(
                &self.channel,
                |channel| channels & (1 << channel) != 0,
                deadline,
            )?;
        }
        if let Some(representative) = filter.representative {
            passing.keep(&self.representative, |rep| rep == representative, deadline)?;
        }
        for (cells, accepts) in &filter.fields {
            match cells {
                Cells::Dense { codes, .. } => {
                    passing.keep(codes, |code| accepts.accepts(code), deadline)?
                }
                Cells::Sparse { slots, codes, .. } => {
                    passing.keep_listed(slots, codes, |code| accepts.accepts(code), deadline)?
                }
            }
        }
        if let Some(allowed) = &filter.customers {
            passing.keep(
                &self.customer,
                |customer| allowed[customer as usize],
                deadline,
            )?;
        }
        for (n, slot) in passing.slots().enumerate() {
            if n % (1 << 20) == 0 {
                deadline.check()?;
            }
            let customer = self.customer[slot] as usize;
            figures[customer].add(self.occurred_at_ms[slot], i64::from(self.score[slot]));
        }
        Ok(figures)
    }

    /// Which customers a search lets through (`None`: no search).
    fn searched(&self, search: &str) -> Option<Vec<bool>> {
        let needle = crate::text::fold(search.trim());
        if needle.is_empty() {
            return None;
        }
        if needle.contains(SEARCH_SEPARATOR) {
            // Could span two customers in the joined text: test each on its own.
            return Some(
                self.search_text
                    .iter()
                    .map(|text| text.contains(needle.as_str()))
                    .collect(),
            );
        }
        let index = self
            .search_index
            .get_or_init(|| SearchIndex::new(&self.search_text));
        Some(index.matches(needle.as_bytes(), self.search_text.len()))
    }

    /// The predicate of `conditions` over these columns; `None` when nothing can match
    /// (a select value no conversation has, a representative with no conversation).
    fn filter<'a>(&'a self, conditions: &Conditions) -> Option<Filter<'a>> {
        let representative = match conditions.representative_id {
            Some(id) => Some(self.people.iter().position(|person| *person == id)? as u32),
            None => None,
        };
        let mut filter = Filter {
            from_ms: conditions.from_ms.unwrap_or(i64::MIN),
            until_ms: conditions.until_ms.unwrap_or(i64::MAX),
            representative,
            ..Filter::default()
        };
        if !conditions.channels.is_empty() {
            filter.channels = conditions
                .channels
                .iter()
                .fold(0, |bits, channel| bits | channel_bit(*channel));
        }
        for resolved in &conditions.fields {
            let column = self.fields.get(&resolved.field_id)?;
            let accepts = match &resolved.matcher {
                Matcher::Equals(value) => Accepts::Code(column.dictionary.code_of(value)?),
                Matcher::Contains(folded) => {
                    let dictionary = column.dictionary.folded();
                    let mut set = vec![false; dictionary.len() + 1];
                    for (index, value) in dictionary.iter().enumerate() {
                        // A free code's text is empty and never matches a non-empty filter.
                        set[index + 1] = !value.is_empty() && value.contains(folded.as_str());
                    }
                    Accepts::Codes(set)
                }
            };
            filter.fields.push((&column.cells, accepts));
        }
        Some(filter)
    }

    /// The order of two customers; `previous` holds the previous period's figures when the
    /// question compares with one.
    fn compare(
        &self,
        figures: &[Figures],
        previous: Option<&[Figures]>,
        sort: SortKey,
        dir: SortDir,
        a: u32,
        b: u32,
    ) -> Ordering {
        let (fa, fb) = (&figures[a as usize], &figures[b as usize]);
        let directed = |by_key: Ordering| match dir {
            SortDir::Desc => by_key.reverse(),
            SortDir::Asc => by_key,
        };
        let by_key = match sort {
            SortKey::Interactions => directed(fa.interactions.cmp(&fb.interactions)),
            SortKey::First => directed(fa.first_ms.cmp(&fb.first_ms)),
            SortKey::Latest => directed(fa.latest_ms.cmp(&fb.latest_ms)),
            SortKey::Score => directed(fa.average().total_cmp(&fb.average())),
            SortKey::Change => {
                // The groups keep their order in both directions; the drop is directed.
                let (pa, pb) = previous.map_or((Figures::default(), Figures::default()), |p| {
                    (p[a as usize], p[b as usize])
                });
                let group = |f: &Figures, p: &Figures| {
                    ChangeGroup::of(i64::from(f.interactions), i64::from(p.interactions))
                };
                let drop = |f: &Figures, p: &Figures| {
                    average_drop(
                        f.score_sum,
                        i64::from(f.interactions),
                        p.score_sum,
                        i64::from(p.interactions),
                    )
                };
                group(fa, &pa)
                    .cmp(&group(fb, &pb))
                    .then_with(|| directed(drop(fa, &pa).total_cmp(&drop(fb, &pb))))
            }
        };
        // Identifiers are unique in an organisation and compared byte-wise: a total order.
        by_key.then_with(|| self.identifier[a as usize].cmp(&self.identifier[b as usize]))
    }

    fn order_index(sort: SortKey, dir: SortDir) -> usize {
        let key = SortKey::ALL
            .iter()
            .position(|candidate| *candidate == sort)
            .unwrap_or(0);
        key * 2 + usize::from(dir == SortDir::Asc)
    }

    /// One page of customers as `question` asks.
    pub(super) fn page(
        &self,
        question: &PageQuestion,
        deadline: &Deadline,
    ) -> StoreResult<Page<CustomerSummary>> {
        let page_size = question.page_size.max(1) as usize;
        let searched = self.searched(&question.search);
        if question.conditions.is_empty() {
            // Every customer's unconditioned figures, and each sort order, are kept for the
            // version: a page is a walk along the order.
            let overall = self.overall(deadline)?;
            let order = overall.orders[Facts::order_index(question.sort, question.dir)]
                .get_or_init(|| {
                    let mut listed: Vec<u32> = (0..overall.figures.len() as u32)
                        .filter(|customer| overall.figures[*customer as usize].interactions > 0)
                        .collect();
                    listed.sort_unstable_by(|a, b| {
                        self.compare(&overall.figures, None, question.sort, question.dir, *a, *b)
                    });
                    listed
                });
            let (paging, rows): (Paging, Vec<u32>) = match &searched {
                None => {
                    let paging = place(question, order.len());
                    let start = paging.offset(page_size as u32) as usize;
                    (
                        paging,
                        order.iter().skip(start).take(page_size).copied().collect(),
                    )
                }
                Some(allowed) => {
                    let total = order.iter().filter(|c| allowed[**c as usize]).count();
                    let paging = place(question, total);
                    let start = paging.offset(page_size as u32) as usize;
                    let rows = order
                        .iter()
                        .filter(|c| allowed[**c as usize])
                        .skip(start)
                        .take(page_size)
                        .copied()
                        .collect();
                    (paging, rows)
                }
            };
            return Ok(self.answer(&overall.figures, None, rows, paging));
        }
        let Some(mut filter) = self.filter(&question.conditions) else {
            return Ok(self.answer(&[], None, Vec::new(), place(question, 0)));
        };
        filter.customers = searched.clone();
        let figures = self.figures(&filter, deadline)?;
        let previous = self.previous_figures(&question.conditions, searched, deadline)?;
        let previous = previous.as_deref();
        let mut listed: Vec<u32> = (0..figures.len() as u32)
            .filter(|customer| figures[*customer as usize].interactions > 0)
            .collect();
        let total = listed.len();
        let paging = place(question, total);
        let start = paging.offset(page_size as u32) as usize;
        let end = (start + page_size).min(total);
        deadline.check()?;
        let compare = |a: &u32, b: &u32| {
            self.compare(&figures, previous, question.sort, question.dir, *a, *b)
        };
        let rows = if start >= end {
            Vec::new()
        } else if end < total {
            // Only the first `end` in order are needed: select them, then sort those.
            listed.select_nth_unstable_by(end - 1, compare);
            listed.truncate(end);
            listed.sort_unstable_by(compare);
            listed[start..].to_vec()
        } else {
            // The last page: select the rows after `start` from the other end.
            if start > 0 {
                listed.select_nth_unstable_by(start, compare);
            }
            let mut tail = listed.split_off(start);
            tail.sort_unstable_by(compare);
            tail
        };
        Ok(self.answer(&figures, previous, rows, paging))
    }

    /// Per-customer figures over the previous period under the question's other conditions:
    /// a second selection, joined to the first by customer slot. `None` when the question
    /// does not compare (or nothing can match then: every customer is new).
    fn previous_figures(
        &self,
        conditions: &Conditions,
        searched: Option<Vec<bool>>,
        deadline: &Deadline,
    ) -> StoreResult<Option<Vec<Figures>>> {
        let Some(previous) = conditions.over_previous() else {
            return Ok(None);
        };
        let Some(mut filter) = self.filter(&previous) else {
            return Ok(Some(vec![Figures::default(); self.customer_id.len()]));
        };
        filter.customers = searched;
        Ok(Some(self.figures(&filter, deadline)?))
    }

    /// Every customer of the view in its order, computed once: what an export streams, so
    /// that it shows one version whatever is written while it runs.
    pub(super) fn listing(
        &self,
        question: &PageQuestion,
        deadline: &Deadline,
    ) -> StoreResult<Vec<CustomerSummary>> {
        let searched = self.searched(&question.search);
        let previous = self.previous_figures(&question.conditions, searched.clone(), deadline)?;
        let previous = previous.as_deref();
        let figures = if question.conditions.is_empty() {
            self.figures(
                &Filter {
                    customers: searched,
                    ..Filter::default()
                },
                deadline,
            )?
        } else {
            let Some(mut filter) = self.filter(&question.conditions) else {
                return Ok(Vec::new());
            };
            filter.customers = searched;
            self.figures(&filter, deadline)?
        };
        let mut listed: Vec<u32> = (0..figures.len() as u32)
            .filter(|customer| figures[*customer as usize].interactions > 0)
            .collect();
        deadline.check()?;
        listed.sort_unstable_by(|a, b| {
            self.compare(&figures, previous, question.sort, question.dir, *a, *b)
        });
        deadline.check()?;
        Ok(listed
            .into_iter()
            .map(|customer| self.summary(&figures, previous, customer))
            .collect())
    }

    /// The ids of the representatives with at least one conversation, ascending.
    pub(super) fn representatives(&self) -> Arc<[i64]> {
        self.representatives
            .get_or_init(|| {
                let mut seen = vec![false; self.people.len()];
                for person in &self.representative {
                    seen[*person as usize] = true;
                }
                let mut ids: Vec<i64> = self
                    .people
                    .iter()
                    .zip(seen)
                    .filter_map(|(id, seen)| seen.then_some(*id))
                    .collect();
                ids.sort_unstable();
                ids.into()
            })
            .clone()
    }

    fn summary(
        &self,
        figures: &[Figures],
        previous: Option<&[Figures]>,
        customer: u32,
    ) -> CustomerSummary {
        let at = customer as usize;
        let figures = figures[at];
        let before = previous.map_or(Figures::default(), |previous| previous[at]);
        CustomerSummary {
            id: self.customer_id[at],
            identifier: self.identifier[at].clone(),
            display_name: self.display_name[at].clone(),
            interactions: i64::from(figures.interactions),
            first_ms: figures.first_ms,
            latest_ms: figures.latest_ms,
            score_sum: figures.score_sum,
            previous_interactions: i64::from(before.interactions),
            previous_score_sum: before.score_sum,
        }
    }

    /// The page `paging` placed, holding `rows` (customer slots) with their figures.
    fn answer(
        &self,
        figures: &[Figures],
        previous: Option<&[Figures]>,
        rows: Vec<u32>,
        paging: Paging,
    ) -> Page<CustomerSummary> {
        paging.with_rows(
            rows.into_iter()
                .map(|customer| self.summary(figures, previous, customer))
                .collect(),
        )
    }
}
