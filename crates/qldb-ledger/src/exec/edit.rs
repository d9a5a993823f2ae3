//! Functional edits of Ion documents for DML: set, remove and insert at a path. Ion elements
//! are immutable, so each edit rebuilds the containers along the path, keeping annotations.

use crate::eval::{EvalError, EvalResult};
use ion_rs::{Element, IonType, Sequence};

/// One step of a concrete path inside a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Field(String),
    Index(usize),
}

fn rebuild_struct(
    original: &Element,
    f: impl FnOnce(ion_rs::StructBuilder) -> ion_rs::StructBuilder,
) -> Element {
    let builder = original
        .as_struct()
        .map(|s| s.clone_builder())
        .unwrap_or_else(Element::struct_builder);
    Element::from(f(builder).build()).with_annotations(original.annotations().clone())
}

fn rebuild_sequence(original: &Element, items: Vec<Element>) -> Element {
    let seq = Sequence::new(items);
    let e = if original.ion_type() == IonType::SExp {
        Element::from(ion_rs::SExp::from(seq))
    } else {
        Element::from(ion_rs::List::from(seq))
    };
    e.with_annotations(original.annotations().clone())
}

fn seq_items(e: &Element) -> Vec<Element> {
    e.as_sequence()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

/// Sets the value at `path`, creating missing struct fields on the way.
pub(crate) fn set(doc: &Element, path: &[Step], value: Element) -> EvalResult<Element> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(value);
    };
    match first {
        Step::Field(name) => {
            if doc.ion_type() != IonType::Struct || doc.is_null() {
                return Err(EvalError::new(format!(
                    "Cannot set field '{name}' of a {} value",
                    doc.ion_type()
                )));
            }
            let child = doc.as_struct().and_then(|s| s.get(name.as_str()));
            let new_child = match child {
                Some(c) => set(c, rest, value)?,
                None if rest.is_empty() => value,
                None => set(
                    &Element::from(Element::struct_builder().build()),
                    rest,
                    value,
                )?,
            };
            Ok(rebuild_struct(doc, |b| {
                b.remove_field(name).with_field(name.as_str(), new_child)
            }))
        }
        Step::Index(i) => {
            let mut items = match doc.as_sequence() {
                Some(_) if !doc.is_null() => seq_items(doc),
                _ => {
                    return Err(EvalError::new(format!(
                        "Cannot set position {i} of a {} value",
                        doc.ion_type()
                    )))
                }
            };
            if *i >= items.len() {
                return Err(EvalError::new(format!(
                    "Position {i} is out of range for a list of {} elements",
                    items.len()
                )));
            }
            items[*i] = set(&items[*i], rest, value)?;
            Ok(rebuild_sequence(doc, items))
        }
    }
}

/// Removes the value at `path`; a path that does not exist changes nothing.
pub(crate) fn remove(doc: &Element, path: &[Step]) -> Element {
    let Some((first, rest)) = path.split_first() else {
        return doc.clone();
    };
    match first {
        Step::Field(name) => match doc.as_struct().and_then(|s| s.get(name.as_str())) {
            None => doc.clone(),
            Some(child) => {
                if rest.is_empty() {
                    rebuild_struct(doc, |b| b.remove_field(name))
                } else {
                    let new_child = remove(child, rest);
                    rebuild_struct(doc, |b| {
                        b.remove_field(name).with_field(name.as_str(), new_child)
                    })
                }
            }
        },
        Step::Index(i) => {
            let mut items = seq_items(doc);
            if doc.as_sequence().is_none() || *i >= items.len() {
                return doc.clone();
            }
            if rest.is_empty() {
                items.remove(*i);
            } else {
                items[*i] = remove(&items[*i], rest);
            }
            rebuild_sequence(doc, items)
        }
    }
}

/// The value at `path`, if present.
pub(crate) fn get<'e>(doc: &'e Element, path: &[Step]) -> Option<&'e Element> {
    let mut cur = doc;
    for s in path {
        cur = match s {
            Step::Field(f) => cur.as_struct()?.get(f.as_str())?,
            Step::Index(i) => cur.as_sequence()?.get(*i)?,
        };
    }
    Some(cur)
}

/// `INSERT INTO path VALUE v [AT key]`: appends to (or inserts at a position of) the list at
/// `path`, or adds field `key` to the struct at `path`.
pub(crate) fn insert_into(
    doc: &Element,
    path: &[Step],
    value: Element,
    at: Option<&Element>,
) -> EvalResult<Element> {
    let target = get(doc, path).ok_or_else(|| {
        EvalError::new("The target of INSERT INTO does not exist in the document")
    })?;
    let updated = match target.ion_type() {
        IonType::List | IonType::SExp if !target.is_null() => {
            let mut items = seq_items(target);
            match at {
                None => items.push(value),
                Some(k) => {
                    let pos = k
                        .as_i64()
                        .and_then(|p| usize::try_from(p).ok())
                        .filter(|p| *p <= items.len())
                        .ok_or_else(|| {
                            EvalError::new(format!(
                                "AT position must be an integer between 0 and {}",
                                items.len()
                            ))
                        })?;
                    items.insert(pos, value);
                }
            }
            rebuild_sequence(target, items)
        }
        IonType::Struct if !target.is_null() => {
            let key = at
                .and_then(Element::as_text)
                .ok_or_else(|| EvalError::new("INSERT INTO a struct needs AT with a field name"))?;
            if target.as_struct().and_then(|s| s.get(key)).is_some() {
                return Err(EvalError::new(format!(
                    "INSERT INTO: field '{key}' already exists"
                )));
            }
            rebuild_struct(target, |b| b.with_field(key, value))
        }
        other => {
            return Err(EvalError::new(format!(
                "INSERT INTO needs a list or struct target, found {other}"
            )))
        }
    };
    set(doc, path, updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ion(t: &str) -> Element {
        Element::read_one(t).unwrap()
    }

    #[test]
    fn set_creates_missing_fields_and_keeps_annotations() {
        let d = ion("ann::{a: 1}");
        let r = set(
            &d,
            &[Step::Field("b".into()), Step::Field("c".into())],
            ion("2"),
        )
        .unwrap();
        assert_eq!(r, ion("ann::{a: 1, b: {c: 2}}"));
    }

    #[test]
    fn set_replaces_list_element() {
        let d = ion("{l: [1, 2, 3]}");
        let r = set(&d, &[Step::Field("l".into()), Step::Index(1)], ion("x")).unwrap();
        assert_eq!(r, ion("{l: [1, x, 3]}"));
        assert!(set(&d, &[Step::Field("l".into()), Step::Index(5)], ion("x")).is_err());
    }

    #[test]
    fn remove_field_and_element() {
        let d = ion("{a: 1, l: [1, 2]}");
        assert_eq!(remove(&d, &[Step::Field("a".into())]), ion("{l: [1, 2]}"));
        assert_eq!(
            remove(&d, &[Step::Field("l".into()), Step::Index(0)]),
            ion("{a: 1, l: [2]}")
        );
        assert_eq!(remove(&d, &[Step::Field("zz".into())]), d);
    }

    #[test]
    fn insert_into_list_and_struct() {
        let d = ion("{l: [1], s: {}}");
        let r = insert_into(&d, &[Step::Field("l".into())], ion("2"), None).unwrap();
        assert_eq!(r, ion("{l: [1, 2], s: {}}"));
        let r = insert_into(&d, &[Step::Field("l".into())], ion("0"), Some(&ion("0"))).unwrap();
        assert_eq!(r, ion("{l: [0, 1], s: {}}"));
        let r = insert_into(
            &d,
            &[Step::Field("s".into())],
            ion("1"),
            Some(&ion("\"k\"")),
        )
        .unwrap();
        assert_eq!(r, ion("{l: [1], s: {k: 1}}"));
        assert!(insert_into(&d, &[Step::Field("nope".into())], ion("1"), None).is_err());
    }
}
