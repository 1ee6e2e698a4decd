//! SPARQL 1.1 query results in JSON (`application/sparql-results+json`),
//! read one binding at a time: `head.vars` first, then each element of
//! `results.bindings` handed to a callback as it is parsed, so a file of
//! any size is read in the memory of one binding.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// One bound value (an IRI or a literal): only its lexical form is used.
#[derive(Clone, Debug, Deserialize)]
pub struct Term {
    pub value: String,
}

/// One result: the variables it binds (an unbound optional variable is
/// absent).
pub type Binding = BTreeMap<String, Term>;

/// Reads `input`, calling `on_binding` with each result in order, its
/// 1-based number and the variables of `head.vars` read so far (all of
/// them when, as query services write it, `head` comes first). Returns the
/// variables. An error of the callback stops the reading and is returned as
/// it was given.
pub fn for_each_binding<R: Read, E>(
    input: R,
    mut on_binding: impl FnMut(usize, &[String], Binding) -> Result<(), E>,
) -> Result<Vec<String>, ReadError<E>> {
    let mut state = State {
        vars: Vec::new(),
        count: 0,
        failed: None,
        on_binding: &mut on_binding,
    };
    let mut reader = serde_json::Deserializer::from_reader(input);
    let outcome = Document(&mut state).deserialize(&mut reader);
    if let Some(error) = state.failed.take() {
        return Err(ReadError::Callback(error));
    }
    outcome
        .and_then(|()| reader.end())
        .map_err(ReadError::Json)?;
    Ok(state.vars)
}

/// Why a results file could not be read.
#[derive(Debug)]
pub enum ReadError<E> {
    /// Not JSON, or not the shape of SPARQL results.
    Json(serde_json::Error),
    /// What the callback returned.
    Callback(E),
}

struct State<'f, F, E> {
    vars: Vec<String>,
    count: usize,
    failed: Option<E>,
    on_binding: &'f mut F,
}

struct Document<'s, 'f, F, E>(&'s mut State<'f, F, E>);
struct ResultsPart<'s, 'f, F, E>(&'s mut State<'f, F, E>);
struct BindingList<'s, 'f, F, E>(&'s mut State<'f, F, E>);

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    vars: Vec<String>,
}

impl<'de, F, E> DeserializeSeed<'de> for Document<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F, E> Visitor<'de> for Document<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("SPARQL JSON results: an object with `head` and `results`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut saw_results = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "head" => self.0.vars = map.next_value::<Head>()?.vars,
                "results" => {
                    map.next_value_seed(ResultsPart(&mut *self.0))?;
                    saw_results = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if saw_results {
            Ok(())
        } else {
            Err(de::Error::missing_field("results"))
        }
    }
}

impl<'de, F, E> DeserializeSeed<'de> for ResultsPart<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F, E> Visitor<'de> for ResultsPart<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`results`: an object with `bindings`")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "bindings" {
                map.next_value_seed(BindingList(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

impl<'de, F, E> DeserializeSeed<'de> for BindingList<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F, E> Visitor<'de> for BindingList<'_, '_, F, E>
where
    F: FnMut(usize, &[String], Binding) -> Result<(), E>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`bindings`: a list of results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(binding) = seq.next_element::<Binding>()? {
            self.0.count += 1;
            if let Err(error) = (self.0.on_binding)(self.0.count, &self.0.vars, binding) {
                self.0.failed = Some(error);
                return Err(de::Error::custom("stopped by the reader"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_come_one_at_a_time_in_order_with_the_head_variables() {
        let json = r#"{"head": {"vars": ["a", "b"]}, "results": {"bindings": [
            {"a": {"type": "uri", "value": "x"}},
            {"a": {"type": "literal", "value": "y"}, "b": {"type": "literal", "value": "z"}}
        ]}}"#;
        let mut seen = Vec::new();
        let vars = for_each_binding(json.as_bytes(), |n, _, b| {
            seen.push((n, b.keys().cloned().collect::<Vec<_>>()));
            Ok::<(), ()>(())
        })
        .expect("reads");
        assert_eq!(vars, ["a", "b"]);
        assert_eq!(
            seen,
            [(1, vec!["a".into()]), (2, vec!["a".into(), "b".into()])]
        );
    }

    #[test]
    fn a_callback_error_stops_the_reading_and_comes_back_as_given() {
        let json = r#"{"head": {"vars": []}, "results": {"bindings": [{}, {}, {}]}}"#;
        let mut calls = 0;
        let outcome = for_each_binding(json.as_bytes(), |n, _, _| {
            calls += 1;
            if n == 2 {
                Err("second")
            } else {
                Ok(())
            }
        });
        assert!(matches!(outcome, Err(ReadError::Callback("second"))));
        assert_eq!(calls, 2);
        assert!(matches!(
            for_each_binding("[1, 2]".as_bytes(), |_, _, _| Ok::<(), ()>(())),
            Err(ReadError::Json(_))
        ));
    }
}
