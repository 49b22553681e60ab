//! The bridge between exhunt's borrowed [`Event`] and rsigma's `Event` trait.

use std::borrow::Cow;
use std::cell::RefCell;

use exhunt_model::{Event, LogSource};
use rsigma_eval::EventValue;
use serde_json::Value;

/// An exhunt event seen through rsigma's eyes. Field lookups borrow; nothing is copied.
pub struct SigmaEvent<'e, 'a> {
    ev: &'e Event<'a>,
}

impl<'e, 'a> SigmaEvent<'e, 'a> {
    pub fn new(ev: &'e Event<'a>) -> Self {
        SigmaEvent { ev }
    }
}

impl rsigma_eval::Event for SigmaEvent<'_, '_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        // Rules below Sigma's array-matching version spell a literal field name such as
        // `Data[2]` (our name for the third unnamed EventData value) with escaped brackets.
        let name = rsigma_parser::fieldpath::unescape_brackets(path);
        self.ev
            .get(&name)
            .map(|v| EventValue::Str(Cow::Borrowed(v)))
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.ev.fields.iter().any(|(_, v)| pred(v))
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.ev
            .fields
            .iter()
            .map(|(_, v)| Cow::Borrowed(v.as_ref()))
            .collect()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        for (_, v) in &self.ev.fields {
            visit(v);
        }
    }

    fn to_json(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .ev
            .fields
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        Value::Object(map)
    }

    fn field_keys(&self) -> Vec<Cow<'_, str>> {
        self.ev
            .fields
            .iter()
            .map(|(k, _)| Cow::Borrowed(k.as_ref()))
            .collect()
    }

    // No top-level key list: the candidate index then probes only the fields its rules name
    // (a handful per log source) instead of hashing every column of a wide log row.
    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        None
    }

    fn visit_top_level_keys(&self, _visit: &mut dyn FnMut(&str)) -> bool {
        false
    }
}

thread_local! {
    /// Parsers hand out a handful of distinct log sources; which rule routes fit each is worked
    /// out once per thread and detector, not per event.
    static ROUTE_CACHE: RefCell<Vec<(u64, LogSource, Vec<usize>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Run `f` with the routes for `ls`, from the per-thread cache or computed by `compute`.
pub(crate) fn with_cached_routes<R>(
    detector: u64,
    ls: &LogSource,
    compute: impl FnOnce() -> Vec<usize>,
    f: impl FnOnce(&[usize]) -> R,
) -> R {
    ROUTE_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let pos = match cache.iter().position(|(d, k, _)| *d == detector && k == ls) {
            Some(p) => p,
            None => {
                if cache.len() >= 256 {
                    cache.clear();
                }
                cache.push((detector, ls.clone(), compute()));
                cache.len() - 1
            }
        };
        f(&cache[pos].2)
    })
}
