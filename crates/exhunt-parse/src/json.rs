//! A JSON tree that borrows its strings from the text it was parsed from.
//!
//! Every EVTX record comes out of the `evtx` crate as JSON text and is parsed again here to be
//! normalized; `serde_json::Value` would copy every key and string and hash every key (the
//! `evtx` crate turns on its insertion-ordered maps). This tree keeps strings borrowed when they
//! hold no escapes and objects as small vectors, with `Value`'s semantics: insertion order, and a
//! repeated key keeps its first place and takes its last value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Map<'a>),
}

/// A JSON object in insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Map<'a> {
    entries: Vec<(Cow<'a, str>, Value<'a>)>,
}

/// Above this many keys, repeated keys are found through a hash index rather than a scan, so a
/// hostile object with many keys stays linear.
const SCAN_MAX: usize = 32;

impl<'a> Map<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<'m, 'a> IntoIterator for &'m Map<'a> {
    type Item = (&'m str, &'m Value<'a>);
    type IntoIter = Box<dyn Iterator<Item = (&'m str, &'m Value<'a>)> + 'm>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<'a> Value<'a> {
    pub(crate) fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The member `key` of an object; `None` for anything else.
    pub(crate) fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?.get(key)
    }
}

/// A string that stays borrowed from the input when it can.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value<'de>, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Value<'de>)> = Vec::new();
        let mut index: Option<HashMap<Cow<'de, str>, usize>> = None;
        while let Some(Str(k)) = map.next_key_seed(StrSeed)? {
            let v: Value<'de> = map.next_value()?;
            if entries.len() == SCAN_MAX && index.is_none() {
                index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect(),
                );
            }
            let existing = match &index {
                Some(ix) => ix.get(k.as_ref()).copied(),
                None => entries.iter().position(|(x, _)| *x == k),
            };
            match existing {
                Some(i) => entries[i].1 = v,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(k.clone(), entries.len());
                    }
                    entries.push((k, v));
                }
            }
        }
        Ok(Value::Object(Map { entries }))
    }
}

struct StrSeed;

impl<'de> DeserializeSeed<'de> for StrSeed {
    type Value = Str<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Str<'de>, D::Error> {
        Str::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text through this tree and through `serde_json::Value` (with the insertion-order
    /// feature the workspace uses) gives the same structure.
    fn same_as_serde_json(text: &str) {
        fn convert(v: &serde_json::Value) -> Value<'static> {
            match v {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Number(n) => Value::Number(n.clone()),
                serde_json::Value::String(s) => Value::String(Cow::Owned(s.clone())),
                serde_json::Value::Array(a) => Value::Array(a.iter().map(convert).collect()),
                serde_json::Value::Object(m) => Value::Object(Map {
                    entries: m
                        .iter()
                        .map(|(k, v)| (Cow::Owned(k.clone()), convert(v)))
                        .collect(),
                }),
            }
        }
        let ours: Value<'_> = serde_json::from_str(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, convert(&theirs), "{text}");
    }

    #[test]
    fn matches_serde_json_including_repeated_keys() {
        same_as_serde_json(r#"{"b":1,"a":[true,null,2.5,-3,"x\"y"],"b":{"c":"d"}}"#);
        same_as_serde_json(r#"[1e300, 18446744073709551615, -9223372036854775808, "\u00e9"]"#);
        let many: Vec<String> = (0..100).map(|i| format!(r#""k{}":{i}"#, i % 40)).collect();
        same_as_serde_json(&format!("{{{}}}", many.join(",")));
    }

    #[test]
    fn strings_without_escapes_stay_borrowed() {
        let text = r#"{"Event":{"System":{"Channel":"Security"},"Escaped":"a\\b"}}"#;
        let v: Value<'_> = serde_json::from_str(text).unwrap();
        let sys = v.get("Event").and_then(|e| e.get("System")).unwrap();
        assert!(matches!(
            sys.get("Channel"),
            Some(Value::String(Cow::Borrowed("Security")))
        ));
        let esc = v.get("Event").and_then(|e| e.get("Escaped")).unwrap();
        assert_eq!(esc.as_str(), Some("a\\b"));
    }
}
