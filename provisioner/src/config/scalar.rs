//! Validation that keeps serde_yaml's line:column. serde_yaml attaches the position of the YAML node to an
//! error only when the error is raised while that node is being visited, so every checked value is parsed
//! by a visitor ([`Checked`]) that validates inside `visit_*` instead of after deserialization.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A YAML scalar as serde_yaml resolved it (plain `12` is an integer, `12.5` a float, `"12"` a string).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
}

impl Scalar<'_> {
    /// A short description for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Scalar::Bool(b) => format!("the boolean {b}"),
            Scalar::Int(i) => format!("the integer {i}"),
            Scalar::Float(f) => format!("the number {f}"),
            Scalar::Str(s) => format!("the string {s:?}"),
        }
    }
}

/// A value type checked from one scalar; `Err` is the message: what is wrong and how to fix it.
pub trait FromScalar: Sized {
    /// What a valid value looks like, e.g. "an integer from 128 to 10240".
    const EXPECTING: &'static str;
    fn from_scalar(scalar: Scalar<'_>) -> Result<Self, String>;
}

/// A value of type `T`, validated while its YAML node is visited (so errors carry its location).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Checked<T>(pub T);

impl<'de, T: FromScalar> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor::<T>(PhantomData))
    }
}

struct CheckedVisitor<T>(PhantomData<T>);

impl<T: FromScalar> CheckedVisitor<T> {
    fn check<E: de::Error>(scalar: Scalar<'_>) -> Result<Checked<T>, E> {
        T::from_scalar(scalar).map(Checked).map_err(E::custom)
    }
}

impl<'de, T: FromScalar> Visitor<'de> for CheckedVisitor<T> {
    type Value = Checked<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Self::check(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::check(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::check(Scalar::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        Self::check(Scalar::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        Self::check(Scalar::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::check(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::check(Scalar::Str(v))
    }
}

/// An integer within `min..=max` (the message names the field through `EXPECTING`).
pub fn int_in_range(scalar: Scalar<'_>, min: i128, max: i128, what: &str) -> Result<i128, String> {
    match scalar {
        Scalar::Int(i) if (min..=max).contains(&i) => Ok(i),
        Scalar::Int(i) => Err(format!("{what} must be from {min} to {max}, found {i}")),
        other => Err(format!(
            "{what} must be a whole number from {min} to {max}, found {}",
            other.describe()
        )),
    }
}

/// A string scalar (plain YAML scalars such as `dev` are strings; numbers and booleans are not accepted).
pub fn string<'a>(scalar: Scalar<'a>, what: &str) -> Result<&'a str, String> {
    match scalar {
        Scalar::Str(s) => Ok(s),
        other => Err(format!(
            "{what} must be text, found {}; hint: put it in quotes",
            other.describe()
        )),
    }
}
