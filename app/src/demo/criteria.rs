//! The demo's playbook criteria and each scored conversation's scores on them: scattered
//! around its overall score, lower where its representative is weak on a criterion or its
//! customer is hard to satisfy on one, and sometimes not applicable. Drawn from a generator
//! of their own, so the rest of the demo's data is the same with or without them.

use super::Rng;
use crate::conversations::model::ConversationKind;

/// Key, label, and how far above or below the overall score it tends to sit, in points.
pub const DEMO_CRITERIA: [(&str, &str, f64); 6] = [
    ("greeting", "Greeting", 6.0),
    ("discovery", "Discovery", -4.0),
    ("product_knowledge", "Product knowledge", -2.0),
    ("empathy", "Empathy", 1.0),
    ("resolution", "Resolution", -3.0),
    ("compliance", "Compliance", 4.0),
];

/// Representatives (by index in the demo's list) clearly weak on one criterion (by index in
/// [`DEMO_CRITERIA`]): Chidi on discovery, Freya on empathy, Jade on compliance.
const WEAK_REPRESENTATIVES: [(usize, usize); 3] = [(2, 1), (5, 3), (9, 5)];
/// Points a weakness or a hard customer takes off a criterion's score.
const WEAKNESS_POINTS: f64 = 22.0;
/// One customer in this many is hard to satisfy on one criterion.
const HARD_CUSTOMER_EVERY: usize = 11;

pub(super) struct CriterionScorer {
    rng: Rng,
}

impl CriterionScorer {
    pub(super) fn new(seed: u64) -> Self {
        CriterionScorer {
            rng: Rng(seed ^ 0xC817_E21A_5C0E_5EED),
        }
    }

    /// The criterion that a customer (by index) is hard to satisfy on, if any: resolution or
    /// product knowledge, alternately.
    fn hard_on(customer: usize) -> Option<usize> {
        (customer % HARD_CUSTOMER_EVERY == 3).then_some(if customer.is_multiple_of(2) {
            4
        } else {
            2
        })
    }

    /// A scored conversation's criterion scores in hundredths (whole points), `None` for not
    /// applicable: product knowledge does not apply to a quarter of billing questions, nor
    /// compliance to a fifth of emails.
    pub(super) fn scores(
        &mut self,
        overall_hundredths: i64,
        representative: usize,
        customer: usize,
        queue: &str,
        kind: ConversationKind,
    ) -> Vec<(String, Option<i64>)> {
        let overall = overall_hundredths as f64 / 100.0;
        let hard_on = Self::hard_on(customer);
        DEMO_CRITERIA
            .iter()
            .enumerate()
            .map(|(index, (key, _, lean))| {
                let spread = self.rng.normal(0.0, 6.0);
                let not_applicable = match *key {
                    "product_knowledge" => queue == "Billing" && self.rng.below(4) == 0,
                    "compliance" => kind == ConversationKind::Email && self.rng.below(5) == 0,
                    _ => false,
                };
                let weak = WEAK_REPRESENTATIVES.contains(&(representative, index));
                let penalty = WEAKNESS_POINTS
                    * (f64::from(u8::from(weak)) + f64::from(u8::from(hard_on == Some(index))));
                let points = (overall + lean + spread - penalty)
                    .clamp(0.0, 100.0)
                    .round();
                (
                    (*key).to_owned(),
                    (!not_applicable).then_some(points as i64 * 100),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn average(
        scorer: &mut CriterionScorer,
        representative: usize,
        customer: usize,
        index: usize,
    ) -> f64 {
        let scores: Vec<i64> = (0..400)
            .filter_map(|_| {
                scorer.scores(
                    7_500,
                    representative,
                    customer,
                    "Technical",
                    ConversationKind::Voice,
                )[index]
                    .1
            })
            .collect();
        scores.iter().sum::<i64>() as f64 / scores.len() as f64 / 100.0
    }

    #[test]
    fn weak_representatives_and_hard_customers_score_clearly_lower_on_their_criterion() {
        let mut scorer = CriterionScorer::new(7);
        let usual = average(&mut scorer, 0, 0, 1);
        assert!((65.0..80.0).contains(&usual), "{usual}");
        let weak = average(&mut scorer, 2, 0, 1);
        assert!(usual - weak > 15.0, "{usual} against {weak}");
        let hard = CriterionScorer::hard_on(3).expect("customer 3 is hard on one");
        assert!(average(&mut scorer, 0, 0, hard) - average(&mut scorer, 0, 3, hard) > 15.0);
    }

    #[test]
    fn scores_are_whole_points_in_range_and_sometimes_not_applicable() {
        let mut scorer = CriterionScorer::new(7);
        let mut not_applicable = 0;
        for n in 0..2_000 {
            let scores = scorer.scores(
                (n % 101) * 100,
                n as usize % 12,
                n as usize,
                "Billing",
                ConversationKind::Email,
            );
            assert_eq!(scores.len(), DEMO_CRITERIA.len());
            for (_, score) in &scores {
                match score {
                    Some(score) => assert!((0..=10_000).contains(score) && score % 100 == 0),
                    None => not_applicable += 1,
                }
            }
        }
        assert!(not_applicable > 100, "{not_applicable}");
        let again: Vec<_> = (0..5)
            .map(|_| CriterionScorer::new(7).scores(8_000, 1, 1, "Sales", ConversationKind::Chat))
            .collect();
        assert!(
            again.windows(2).all(|pair| pair[0] == pair[1]),
            "deterministic from the seed"
        );
    }
}
