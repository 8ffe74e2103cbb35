//! An organisation's conversations as compact columns, and the dictionaries of their custom
//! field values. Every byte held is accounted ([`Facts::bytes`]) against the memory budget,
//! and nothing that a write replaces or removes stays behind: a value no conversation holds
//! any more gives its code back, and a field that few conversations have costs memory in
//! proportion to those that do.

use super::answer::Overall;
pub(super) use super::field_columns::{map_bytes, string_bytes, Cells, FieldColumn};
#[cfg(test)]
use super::load::ValueFact;
use super::load::{ConversationFact, CustomerFact};
use super::search::SearchIndex;
use super::slot_index::SlotIndex;
use crate::conversations::model::Channel;
use std::collections::HashMap;
use std::mem::size_of;
use std::sync::{Arc, OnceLock};

/// A score column's mark for a conversation without a score.
pub(super) const NO_SCORE: i16 = -1;

pub(super) fn channel_code(channel: &str) -> u8 {
    match Channel::parse(channel) {
        Some(Channel::Voice) => 0,
        Some(Channel::Chat) => 1,
        Some(Channel::Email) => 2,
        None => 3,
    }
}

pub(super) fn channel_bit(channel: Channel) -> u8 {
    1 << channel_code(channel.as_str())
}

/// An organisation's columns at one version, and what is derived from them.
#[derive(Default)]
pub(super) struct Facts {
    /// `None` until loaded.
    pub(super) version: Option<i64>,
    pub(super) customer_slot: HashMap<i64, u32>,
    pub(super) customer_id: Vec<i64>,
    pub(super) identifier: Vec<String>,
    pub(super) display_name: Vec<Option<String>>,
    pub(super) search_text: Vec<String>,

    pub(super) conversation_slot: SlotIndex,
    pub(super) customer: Vec<u32>,
    pub(super) occurred_at_ms: Vec<i64>,
    pub(super) score: Vec<i16>,
    pub(super) channel: Vec<u8>,
    /// Index into `people`: a few hundred representatives, millions of conversations.
    pub(super) representative: Vec<u32>,
    pub(super) people: Vec<i64>,
    person_slot: HashMap<i64, u32>,
    pub(super) fields: HashMap<i64, FieldColumn>,
    /// Conversations changed in this load, whose field values are cleared before the load's
    /// values are applied (a rewrite replaces every value).
    touched: Vec<u32>,
    /// Bytes of the columns above, as of the last [`Facts::finish`].
    column_bytes: usize,

    /// The figures with no condition, computed on first use at this version.
    pub(super) overall: OnceLock<Overall>,
    /// Every customer's search text in one buffer, built on first search at this version.
    pub(super) search_index: OnceLock<SearchIndex>,
    /// The representatives with conversations, built on first use at this version.
    pub(super) representatives: OnceLock<Arc<[i64]>>,
}

impl Facts {
    pub(super) fn put_customer(&mut self, row: CustomerFact) {
        match self.customer_slot.get(&row.id) {
            Some(&slot) => {
                let slot = slot as usize;
                self.identifier[slot] = row.identifier;
                self.display_name[slot] = row.display_name;
                self.search_text[slot] = row.search_text;
            }
            None => {
                self.customer_slot
                    .insert(row.id, self.customer_id.len() as u32);
                self.customer_id.push(row.id);
                self.identifier.push(row.identifier);
                self.display_name.push(row.display_name);
                self.search_text.push(row.search_text);
            }
        }
    }

    fn person(&mut self, id: i64) -> u32 {
        if let Some(&slot) = self.person_slot.get(&id) {
            return slot;
        }
        let slot = self.people.len() as u32;
        self.people.push(id);
        self.person_slot.insert(id, slot);
        slot
    }

    pub(super) fn put_conversation(&mut self, row: ConversationFact) {
        let Some(&customer) = self.customer_slot.get(&row.customer_id) else {
            // Cannot happen inside one snapshot (a conversation's customer is written in the
            // same or an earlier transaction); counted nowhere rather than wrongly.
            tracing::error!(
                conversation = row.id,
                customer = row.customer_id,
                "read model: conversation of an unknown customer"
            );
            return;
        };
        let score = row
            .score_hundredths
            .and_then(|score| i16::try_from(score).ok())
            .unwrap_or(NO_SCORE);
        let channel = u8::try_from(row.channel_code).unwrap_or(3);
        let representative = self.person(row.representative_id);
        match self.conversation_slot.get(row.id) {
            Some(slot) => {
                let at = slot as usize;
                self.customer[at] = customer;
                self.occurred_at_ms[at] = row.occurred_at_ms;
                self.score[at] = score;
                self.channel[at] = channel;
                self.representative[at] = representative;
                self.touched.push(slot);
            }
            None => {
                self.conversation_slot
                    .insert(row.id, self.customer.len() as u32);
                self.customer.push(customer);
                self.occurred_at_ms.push(row.occurred_at_ms);
                self.score.push(score);
                self.channel.push(channel);
                self.representative.push(representative);
            }
        }
    }

    #[cfg(test)]
    pub(super) fn put_value(&mut self, row: ValueFact) {
        if !self.touched.is_empty() {
            self.clear_touched();
        }
        let Some(slot) = self.conversation_slot.get(row.conversation_id) else {
            return;
        };
        self.fields
            .entry(row.field_id)
            .or_default()
            .put(slot, row.value);
    }

    /// One value of one field, held by the conversations `conversation_ids` (those not held
    /// are skipped, as in [`Facts::put_value`]): a load reads values grouped this way, so
    /// each distinct value is looked up once.
    pub(super) fn put_values(
        &mut self,
        field_id: i64,
        value: String,
        conversation_ids: impl IntoIterator<Item = i64>,
        slots: &mut Vec<u32>,
    ) {
        if !self.touched.is_empty() {
            self.clear_touched();
        }
        slots.clear();
        slots.extend(
            conversation_ids
                .into_iter()
                .filter_map(|id| self.conversation_slot.get(id)),
        );
        let len = self.customer.len();
        self.fields
            .entry(field_id)
            .or_default()
            .put_all(slots, value, len);
    }

    /// Room for `conversations` more conversations, so that a load's columns are allocated
    /// once rather than grown by doubling (which would hold twice their size at the peak).
    pub(super) fn reserve_conversations(&mut self, conversations: usize) {
        self.customer.reserve_exact(conversations);
        self.occurred_at_ms.reserve_exact(conversations);
        self.score.reserve_exact(conversations);
        self.channel.reserve_exact(conversations);
        self.representative.reserve_exact(conversations);
    }

    /// Rewritten conversations lose their old values before the new ones are applied.
    fn clear_touched(&mut self) {
        for column in self.fields.values_mut() {
            for &slot in &self.touched {
                column.clear(slot);
            }
        }
        self.touched.clear();
    }

    /// Ends a load at `version`: every column settled, the derived caches dropped, the bytes
    /// counted.
    pub(super) fn finish(&mut self, version: i64) {
        self.clear_touched();
        self.touched = Vec::new();
        self.conversation_slot.settle();
        self.overall = OnceLock::new();
        self.search_index = OnceLock::new();
        self.representatives = OnceLock::new();
        let len = self.customer.len();
        for column in self.fields.values_mut() {
            column.settle(len);
        }
        self.version = Some(version);
        self.column_bytes = self.count_column_bytes();
    }

    /// Gives back the room vectors grew into while loading (a fresh load's columns are
    /// then the size of their data).
    pub(super) fn shrink(&mut self) {
        self.customer_id.shrink_to_fit();
        self.identifier.shrink_to_fit();
        self.display_name.shrink_to_fit();
        self.search_text.shrink_to_fit();
        self.customer.shrink_to_fit();
        self.occurred_at_ms.shrink_to_fit();
        self.score.shrink_to_fit();
        self.channel.shrink_to_fit();
        self.representative.shrink_to_fit();
        self.customer_slot.shrink_to_fit();
        self.column_bytes = self.count_column_bytes();
    }

    fn count_column_bytes(&self) -> usize {
        let customers: usize = self
            .identifier
            .iter()
            .chain(&self.search_text)
            .map(|text| string_bytes(text, text.capacity()))
            .sum::<usize>()
            + self
                .display_name
                .iter()
                .map(|name| size_of::<Option<String>>() + name.as_ref().map_or(0, String::capacity))
                .sum::<usize>()
            + self.customer_id.capacity() * size_of::<i64>()
            + map_bytes(self.customer_slot.capacity(), 12);
        let conversations = self.conversation_slot.bytes()
            + self.customer.capacity() * size_of::<u32>()
            + self.occurred_at_ms.capacity() * size_of::<i64>()
            + self.score.capacity() * size_of::<i16>()
            + self.channel.capacity()
            + self.representative.capacity() * size_of::<u32>()
            + self.people.capacity() * size_of::<i64>()
            + map_bytes(self.person_slot.capacity(), 12);
        let fields: usize = self.fields.values().map(FieldColumn::bytes).sum();
        size_of::<Facts>() + customers + conversations + fields
    }

    /// Every byte held: the columns and whatever caches have been built at this version.
    pub(super) fn bytes(&self) -> usize {
        let overall = self.overall.get().map_or(0, Overall::bytes);
        let search = self.search_index.get().map_or(0, SearchIndex::bytes);
        let representatives = self
            .representatives
            .get()
            .map_or(0, |ids| ids.len() * size_of::<i64>());
        self.column_bytes + overall + search + representatives
    }

    /// The caches a question may build at this version, for making room before it does.
    pub(super) fn cache_allowance(&self) -> usize {
        let customers = self.customer_id.len();
        let search: usize = self.search_text.iter().map(|text| text.len() + 1).sum();
        Overall::bytes_for(customers, 2) + search + customers * size_of::<usize>()
    }

    pub(super) fn conversations(&self) -> usize {
        self.customer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: i64, customer: i64) -> ConversationFact {
        ConversationFact {
            id,
            customer_id: customer,
            representative_id: 7,
            channel_code: 0,
            occurred_at_ms: id,
            score_hundredths: Some(8000),
        }
    }

    fn customer(id: i64) -> CustomerFact {
        CustomerFact {
            id,
            identifier: format!("C-{id}"),
            display_name: None,
            search_text: format!("c-{id}"),
        }
    }

    fn value(conversation_id: i64, text: String) -> ValueFact {
        ValueFact {
            conversation_id,
            field_id: 1,
            value: text,
        }
    }

    /// 1,000 conversations, each rewritten `rounds` times with a new value for field 1.
    fn rewritten(rounds: usize) -> Facts {
        let mut facts = Facts::default();
        facts.put_customer(customer(1));
        for id in 0..1000 {
            facts.put_conversation(conversation(id, 1));
        }
        facts.finish(1);
        for round in 0..rounds {
            for id in 0..1000 {
                facts.put_conversation(conversation(id, 1));
            }
            for id in 0..1000 {
                facts.put_value(value(id, format!("{round}-{id}-{}", "x".repeat(500))));
            }
            facts.finish(round as i64 + 2);
        }
        facts
    }

    #[test]
    fn replaced_values_are_given_back() {
        let facts = rewritten(50);
        let column = &facts.fields[&1];
        assert_eq!(column.dictionary.live(), 1000);
        // Freed codes are reused: the dictionary never holds much more than what is live.
        assert!(column.dictionary.values.len() <= 2000);
        // And the bytes held stay within 1.5 times those of a fresh load of the same rows.
        let mut fresh = Facts::default();
        fresh.put_customer(customer(1));
        for id in 0..1000 {
            fresh.put_conversation(conversation(id, 1));
        }
        for id in 0..1000 {
            fresh.put_value(value(id, format!("49-{id}-{}", "x".repeat(500))));
        }
        fresh.finish(1);
        fresh.shrink();
        let (held, loaded) = (facts.bytes(), fresh.bytes());
        assert!(
            held * 2 <= loaded * 3,
            "held {held} bytes after 50 rewrites, {loaded} when loaded afresh"
        );
    }

    #[test]
    fn a_sparse_field_costs_in_proportion_to_its_values() {
        let mut facts = Facts::default();
        facts.put_customer(customer(1));
        for id in 0..100_000 {
            facts.put_conversation(conversation(id, 1));
        }
        for id in (0..100_000).step_by(1000) {
            facts.put_value(value(id, "rare".to_owned()));
        }
        facts.finish(1);
        let column = &facts.fields[&1];
        assert!(column.cells.is_sparse());
        assert!(column.cells.bytes() < 100 * 8 * 2);
        // A hundred fields nobody fills cost nothing per conversation.
        assert!(facts.fields.len() == 1);
    }
}
