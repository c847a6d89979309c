//! Duplicate keys in JSON text. `serde_json` keeps the last of two equal keys of an object and
//! says nothing, so a dataflow with two nodes of one name would lose the first without a
//! word (the hostile probe of issue 12 found it). Every JSON text a user gives swell (request
//! bodies, definition files) is checked here first, and a duplicate is refused by its path.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

/// The JSON path of the first duplicate key in `text` (`nodes.a`, `[0].name`), or `None`
/// when there is none or the text is not JSON (the caller's parse reports that).
pub fn duplicate_key(text: &[u8]) -> Option<String> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(text);
    let _ = Walk { path: String::new(), found: &found }.deserialize(&mut de);
    found.into_inner()
}

struct Walk<'a> {
    path: String,
    found: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(Walk { path: format!("{}[{i}]", self.path), found: self.found })?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { key.clone() } else { format!("{}.{key}", self.path) };
            if !seen.insert(key) && self.found.borrow().is_none() {
                *self.found.borrow_mut() = Some(path.clone());
            }
            map.next_value_seed(Walk { path, found: self.found })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::duplicate_key;

    #[test]
    fn finds_the_first_duplicate_by_path() {
        assert_eq!(duplicate_key(br#"{"a": 1, "b": 2}"#), None);
        assert_eq!(duplicate_key(br#"{"a": 1, "a": 2}"#).as_deref(), Some("a"));
        let nodes = br#"{"nodes": {"x": {"action": "filter"}, "y": {}, "x": {"action": "augment"}}}"#;
        assert_eq!(duplicate_key(nodes).as_deref(), Some("nodes.x"));
        assert_eq!(duplicate_key(br#"[{"f": [1, {"k": 1, "k": 1}]}]"#).as_deref(), Some("[0].f[1].k"));
        // the same key in different objects is not a duplicate
        assert_eq!(duplicate_key(br#"{"a": {"k": 1}, "b": {"k": 1}}"#), None);
        assert_eq!(duplicate_key(b"not json"), None);
    }
}
