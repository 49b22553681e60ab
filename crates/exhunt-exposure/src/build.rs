//! Exchange build numbers: `major.minor.build.revision`, with the revision possibly unknown.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ExposureError;

/// An Exchange build number. `revision` is `None` when the source shows only three parts
/// (OWA static paths): the CU is then known, the security update level is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Build {
    pub major: u16,
    pub minor: u16,
    pub build: u32,
    pub revision: Option<u32>,
}

impl Build {
    pub const fn new(major: u16, minor: u16, build: u32, revision: u32) -> Build {
        Build {
            major,
            minor,
            build,
            revision: Some(revision),
        }
    }

    /// The same build with the revision forgotten (what an OWA path shows).
    pub fn without_revision(self) -> Build {
        Build {
            revision: None,
            ..self
        }
    }

    /// Comparison key with an unknown revision read as 0 (the lowest the build can be).
    pub(crate) fn key(&self) -> (u16, u16, u32, u32) {
        (
            self.major,
            self.minor,
            self.build,
            self.revision.unwrap_or(0),
        )
    }

    /// Comparison key with an unknown revision read as the highest possible.
    pub(crate) fn key_high(&self) -> (u16, u16, u32, u32) {
        (
            self.major,
            self.minor,
            self.build,
            self.revision.unwrap_or(u32::MAX),
        )
    }
}

impl Ord for Build {
    /// Orders by number; a build without revision sorts before the same build with one.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.build, self.revision).cmp(&(
            other.major,
            other.minor,
            other.build,
            other.revision,
        ))
    }
}

impl PartialOrd for Build {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.revision {
            Some(r) => write!(f, "{}.{}.{}.{}", self.major, self.minor, self.build, r),
            None => write!(f, "{}.{}.{}", self.major, self.minor, self.build),
        }
    }
}

impl Serialize for Build {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Build {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Build, D::Error> {
        let s = String::deserialize(d)?;
        parse_build(&s).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for Build {
    type Err = ExposureError;
    fn from_str(s: &str) -> Result<Build, ExposureError> {
        parse_build(s)
    }
}

/// Read an Exchange build number.
///
/// Accepts `15.2.792.3`, zero-padded `15.02.0792.003` (log headers), three parts `15.2.792`
/// (revision unknown), and the `AdminDisplayVersion` form `Version 15.2 (Build 792.3)`.
pub fn parse_build(s: &str) -> Result<Build, ExposureError> {
    let input = s.trim();
    let bad = |reason: &str| ExposureError::BadBuild {
        input: s.to_string(),
        reason: reason.to_string(),
    };
    if input.is_empty() {
        return Err(bad("the text is empty"));
    }
    let lower = input.to_ascii_lowercase();
    let dotted: String = if let Some(rest) = lower.strip_prefix("version") {
        // `Version 15.2 (Build 792.3)`
        let rest = rest.trim();
        let (majmin, tail) = rest
            .split_once('(')
            .ok_or_else(|| bad("'Version' form without '(Build ...)'"))?;
        let tail = tail
            .trim()
            .strip_prefix("build")
            .ok_or_else(|| bad("'Version' form without 'Build' inside the parentheses"))?;
        let tail = tail
            .split_once(')')
            .map(|(b, _)| b)
            .ok_or_else(|| bad("'(Build ...' is not closed"))?;
        format!("{}.{}", majmin.trim(), tail.trim())
    } else {
        input.strip_prefix(['v', 'V']).unwrap_or(input).to_string()
    };
    let parts: Vec<&str> = dotted.split('.').collect();
    if !(3..=4).contains(&parts.len()) {
        return Err(bad(&format!(
            "expected 3 or 4 dot-separated numbers, found {}",
            parts.len()
        )));
    }
    let num = |p: &str, what: &str| -> Result<u64, ExposureError> {
        if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("the {what} part {p:?} is not a number")));
        }
        p.parse::<u64>()
            .map_err(|_| bad(&format!("the {what} part {p:?} is not a number")))
    };
    let major = num(parts[0], "major")?;
    let minor = num(parts[1], "minor")?;
    let build = num(parts[2], "build")?;
    let revision = match parts.get(3) {
        Some(p) => Some(num(p, "revision")?),
        None => None,
    };
    if major > u16::MAX as u64 || minor > u16::MAX as u64 {
        return Err(bad("major or minor version out of range"));
    }
    if build > u32::MAX as u64 || revision.is_some_and(|r| r > u32::MAX as u64) {
        return Err(bad("build or revision out of range"));
    }
    Ok(Build {
        major: major as u16,
        minor: minor as u16,
        build: build as u32,
        revision: revision.map(|r| r as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let want = Build::new(15, 2, 792, 3);
        assert_eq!(parse_build("15.2.792.3").unwrap(), want);
        assert_eq!(parse_build("15.02.0792.003").unwrap(), want);
        assert_eq!(parse_build(" Version 15.2 (Build 792.3) ").unwrap(), want);
        assert_eq!(parse_build("15.2.792").unwrap(), want.without_revision());
        assert_eq!(parse_build("15.2.792").unwrap().to_string(), "15.2.792");
        for bad in [
            "",
            "15",
            "15.2",
            "15.2.x.3",
            "15.2.792.3.1",
            "Version 15.2",
            "-1.2.3",
        ] {
            assert!(parse_build(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn order() {
        assert!(Build::new(15, 2, 792, 10) > Build::new(15, 2, 792, 3));
        assert!(Build::new(15, 2, 858, 5) > Build::new(15, 2, 792, 15));
    }
}
