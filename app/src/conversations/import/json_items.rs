//! JSON conversations read straight from their text into raw rows, with serde visitors: an
//! NDJSON line, or the items of an API call's array. No `serde_json::Value` tree is built (a
//! tree costs many times the text it is read from), values of the wrong kind are described
//! rather than kept, and an array is refused as soon as it holds more items than allowed,
//! before the items past the limit are read.

use super::checks::{shown, Collector, RawRow};
use super::criteria::CriteriaObject;
use super::TEXT_COLUMNS;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A value where text is expected: kept when it is text, only described otherwise.
pub(super) enum Loose {
    Null,
    Text(String),
    /// A number, and how JSON writes it.
    Number(f64, String),
    /// Anything else, as a message shows it.
    Other(String),
}

impl Loose {
    /// "must be text, not …".
    fn not_text(&self) -> String {
        let shown_as = match self {
            Loose::Number(_, written) => shown(written),
            Loose::Other(described) => described.clone(),
            Loose::Text(_) | Loose::Null => String::new(),
        };
        format!("must be text, not {shown_as}")
    }
}

/// Reads and drops the rest of an array, so the reader stands after it.
pub(super) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The visits of a visitor of a JSON object for the values that are not objects (an array, a
/// boolean, a number, a string): each reads past the value and answers the visitor's
/// `not_an_object()`, which notes the error of its line.
macro_rules! not_an_object_visits {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok(self.not_an_object())
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(self.not_an_object())
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(self.not_an_object())
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(self.not_an_object())
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(self.not_an_object())
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(self.not_an_object())
        }
    };
}
pub(super) use not_an_object_visits;

/// Reads and drops the rest of an object.
fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de> serde::Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_none<E>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
                <Loose as serde::Deserialize>::deserialize(d)
            }
            fn visit_str<E>(self, text: &str) -> Result<Loose, E> {
                Ok(Loose::Text(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<Loose, E> {
                Ok(Loose::Text(text))
            }
            fn visit_bool<E>(self, value: bool) -> Result<Loose, E> {
                Ok(Loose::Other(value.to_string()))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Loose, E> {
                Ok(Loose::Number(value as f64, value.to_string()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Loose, E> {
                Ok(Loose::Number(value as f64, value.to_string()))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Loose, E> {
                let written = serde_json::Number::from_f64(value)
                    .map_or_else(|| value.to_string(), |number| number.to_string());
                Ok(Loose::Number(value, written))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Loose, A::Error> {
                drain_seq(seq)?;
                Ok(Loose::Other("[…]".to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose, A::Error> {
                drain_map(map)?;
                Ok(Loose::Other("{…}".to_owned()))
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// One conversation: a JSON object read into a raw row, its problems reported on `line`.
/// Answers `None` for something that is not an object.
pub(super) struct Item<'a> {
    pub line: u64,
    pub errors: &'a mut Collector,
}

impl Item<'_> {
    fn not_an_object(self) -> Option<RawRow> {
        self.errors.add(self.line, None, "is not a JSON object");
        None
    }
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = Option<RawRow>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = Option<RawRow>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a conversation (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let line = self.line;
        let mut raw = RawRow::new(line);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "score" => {
                    raw.score = match map.next_value::<Loose>()? {
                        Loose::Null => None,
                        Loose::Number(score, _) => Some(Ok(score)),
                        // As JSON writes it, quotes and all: `"80"` is not a number.
                        Loose::Text(text) => {
                            Some(Err(serde_json::to_string(&text).unwrap_or(text)))
                        }
                        Loose::Other(described) => Some(Err(described)),
                    }
                }
                // A later `criteria` replaces an earlier one, like `fields`.
                "criteria" => {
                    raw.criteria = map.next_value_seed(CriteriaObject {
                        line,
                        errors: &mut *self.errors,
                    })?
                }
                // A later `fields` replaces an earlier one, as a later key does any value.
                "fields" => {
                    raw.fields = map.next_value_seed(Fields {
                        line,
                        errors: &mut *self.errors,
                    })?
                }
                name => match TEXT_COLUMNS
                    .iter()
                    .chain(["occurred_at"].iter())
                    .find(|known| **known == name)
                {
                    Some(known) => match map.next_value::<Loose>()? {
                        Loose::Text(text) => {
                            raw.text.insert(known, text);
                        }
                        Loose::Null => {}
                        other => self.errors.add(line, Some(known), other.not_text()),
                    },
                    None => {
                        map.next_value::<IgnoredAny>()?;
                        self.errors
                            .add(line, Some(&shown(name)), "is not a known key");
                    }
                },
            }
        }
        Ok(Some(raw))
    }

    not_an_object_visits!();

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.not_an_object())
    }
}

/// The `fields` of a conversation: key to text (a null value, or a null `fields`, is no value).
struct Fields<'a> {
    line: u64,
    errors: &'a mut Collector,
}

impl<'de> DeserializeSeed<'de> for Fields<'_> {
    type Value = Vec<(String, String)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Fields<'_> {
    fn not_an_object(self) -> Vec<(String, String)> {
        self.errors.add(
            self.line,
            Some("fields"),
            "must be an object of field key to text",
        );
        Vec::new()
    }
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = Vec<(String, String)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of field key to text")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(String, String)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value::<Loose>()? {
                Loose::Text(text) => {
                    // A key given twice keeps its last value.
                    match fields.iter_mut().find(|(known, _)| *known == key) {
                        Some(field) => field.1 = text,
                        None => fields.push((key, text)),
                    }
                }
                Loose::Null => {}
                other => {
                    self.errors.add(
                        self.line,
                        Some(&format!("fields.{}", shown(&key))),
                        other.not_text(),
                    );
                }
            }
        }
        Ok(fields)
    }

    not_an_object_visits!();
}

/// Why a batch was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchRefusal {
    /// Not JSON (the parser's message).
    NotJson(String),
    /// JSON, but not an array.
    NotAnArray,
    /// More items than allowed; those past the limit were not read.
    TooManyItems { max: usize },
}

/// How reading an array stopped, when it stopped early.
#[derive(Default)]
enum Stop {
    #[default]
    Read,
    NotAnArray,
    TooMany,
}

/// Stands for the item past the limit, which is never parsed: asked for, it notes that there
/// is one and refuses to be read. (An array that ends there answers no element without asking.)
struct PastTheLimit<'a> {
    reached: &'a mut bool,
}

impl<'de> DeserializeSeed<'de> for PastTheLimit<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        *self.reached = true;
        Err(de::Error::custom("more items than allowed"))
    }
}

/// The array of an API call: each item read into a raw row in turn.
struct Batch<'a> {
    max_items: usize,
    errors: &'a mut Collector,
    raws: &'a mut Vec<RawRow>,
    stop: &'a mut Stop,
}

impl<'de> Visitor<'de> for Batch<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut line = 0_u64;
        loop {
            if line as usize == self.max_items {
                let mut reached = false;
                let next = seq.next_element_seed(PastTheLimit {
                    reached: &mut reached,
                });
                if reached {
                    *self.stop = Stop::TooMany;
                }
                return next.map(|_| ());
            }
            line += 1;
            let item = Item {
                line,
                errors: &mut *self.errors,
            };
            match seq.next_element_seed(item)? {
                None => return Ok(()),
                Some(Some(raw)) => self.raws.push(raw),
                Some(None) => {}
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        *self.stop = Stop::NotAnArray;
        Err(de::Error::custom("not an array"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.stop = Stop::NotAnArray;
        Err(E::custom("not an array"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_unit()
    }
}

/// Reads a JSON array of at most `max_items` conversations into raw rows (item N on line N),
/// reporting each item's problems in `errors`.
pub(super) fn read_batch(
    body: &[u8],
    max_items: usize,
    errors: &mut Collector,
) -> Result<Vec<RawRow>, BatchRefusal> {
    let mut raws = Vec::new();
    let mut stop = Stop::default();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = deserializer.deserialize_any(Batch {
        max_items,
        errors,
        raws: &mut raws,
        stop: &mut stop,
    });
    match (read, stop) {
        (_, Stop::TooMany) => Err(BatchRefusal::TooManyItems { max: max_items }),
        (_, Stop::NotAnArray) => Err(BatchRefusal::NotAnArray),
        (Err(error), Stop::Read) => Err(BatchRefusal::NotJson(error.to_string())),
        (Ok(()), Stop::Read) => {
            deserializer
                .end()
                .map_err(|error| BatchRefusal::NotJson(error.to_string()))?;
            Ok(raws)
        }
    }
}
