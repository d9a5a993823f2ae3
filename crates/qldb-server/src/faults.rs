//! Fault injection for driver retry tests, in the style of scylla-proxy: each rule pairs a
//! condition (a SendCommand command and which of its requests) with a reaction (an error
//! answer, a delay, or a dropped connection).
//!
//! Rules come from `--fault 'COMMAND:N:REACTION'` at start-up or from the loopback-only admin
//! API (`POST/GET/DELETE /_qldb_local/faults`). A rule counts the requests of its command from
//! the moment it is added; it fires on the `nth` one and the `times - 1` after it, or, without
//! `nth`, on every one (up to `times` if given). A faulted request never executes; `occ` also
//! closes the session's open transaction and `invalid-session` forgets the session, as the real
//! errors do, so drivers see the state they expect.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::time::Duration;

/// What a rule does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// 400 `OccConflictException`; the open transaction is closed.
    Occ,
    /// 400 `InvalidSessionException` "No such session"; the session is forgotten.
    InvalidSession,
    /// 400 `InvalidSessionException` "Transaction `<id>` has expired"; the session is forgotten.
    Expired,
    /// 500 `InternalFailure`.
    Http500,
    /// 503 `ServiceUnavailable`.
    Http503,
    /// 503 `CapacityExceededException` "Capacity exceeded".
    Capacity,
    /// 400 `RateExceededException` "Rate exceeded".
    Rate,
    /// Waits, then serves the request normally.
    Delay(Duration),
    /// Closes the connection without an answer.
    Drop,
}

impl FromStr for Reaction {
    type Err = String;
    fn from_str(s: &str) -> Result<Reaction, String> {
        let s = s.trim();
        if let Some(ms) = s.strip_prefix("delay=") {
            let ms: u64 = ms
                .parse()
                .map_err(|_| format!("delay=MS needs milliseconds, got {ms:?}"))?;
            return Ok(Reaction::Delay(Duration::from_millis(ms)));
        }
        Ok(match s.to_ascii_lowercase().as_str() {
            "occ" => Reaction::Occ,
            "invalid-session" => Reaction::InvalidSession,
            "expired" => Reaction::Expired,
            "http500" => Reaction::Http500,
            "http503" => Reaction::Http503,
            "capacity" => Reaction::Capacity,
            "rate" => Reaction::Rate,
            "drop" => Reaction::Drop,
            _ => {
                return Err(format!(
                    "unknown reaction {s:?}; use occ, invalid-session, expired, http500, \
                     http503, capacity, rate, delay=MS or drop"
                ))
            }
        })
    }
}

impl std::fmt::Display for Reaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reaction::Occ => f.write_str("occ"),
            Reaction::InvalidSession => f.write_str("invalid-session"),
            Reaction::Expired => f.write_str("expired"),
            Reaction::Http500 => f.write_str("http500"),
            Reaction::Http503 => f.write_str("http503"),
            Reaction::Capacity => f.write_str("capacity"),
            Reaction::Rate => f.write_str("rate"),
            Reaction::Delay(d) => write!(f, "delay={}", d.as_millis()),
            Reaction::Drop => f.write_str("drop"),
        }
    }
}

/// The command a rule matches: one of the seven, or any.
fn parse_command(s: &str) -> Result<&'static str, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("any") || s == "*" {
        return Ok("any");
    }
    qldb_wire::Command::NAMES
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(s))
        .ok_or_else(|| {
            format!(
                "unknown command {s:?}; use any or one of {}",
                qldb_wire::Command::NAMES.join(", ")
            )
        })
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// A command name or `any`.
    pub command: &'static str,
    /// Fire from the nth matching request (1-based); `None` fires from the first.
    pub nth: Option<u64>,
    /// How many times to fire; `None` means without limit.
    pub times: Option<u64>,
    pub reaction: Reaction,
}

impl FromStr for FaultRule {
    type Err = String;

    /// `COMMAND:N:REACTION`: `N` is 1-based or `*` for every matching request.
    fn from_str(s: &str) -> Result<FaultRule, String> {
        let mut parts = s.splitn(3, ':');
        let (Some(command), Some(n), Some(reaction)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("expected COMMAND:N:REACTION, got {s:?}"));
        };
        let command = parse_command(command)?;
        let reaction = reaction.parse()?;
        let n = n.trim();
        let (nth, times) = if n == "*" {
            (None, None)
        } else {
            let nth: u64 = n
                .parse()
                .ok()
                .filter(|&v| v >= 1)
                .ok_or_else(|| format!("N must be a number from 1 or *, got {n:?}"))?;
            (Some(nth), Some(1))
        };
        Ok(FaultRule {
            command,
            nth,
            times,
            reaction,
        })
    }
}

/// The admin API's JSON for adding a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRuleSpec {
    pub command: String,
    #[serde(default)]
    pub nth: Option<u64>,
    #[serde(default)]
    pub times: Option<u64>,
    pub reaction: String,
}

impl TryFrom<FaultRuleSpec> for FaultRule {
    type Error = String;
    fn try_from(spec: FaultRuleSpec) -> Result<FaultRule, String> {
        if spec.nth == Some(0) {
            return Err("nth is 1-based".into());
        }
        if spec.times == Some(0) {
            return Err("times must be at least 1".into());
        }
        Ok(FaultRule {
            command: parse_command(&spec.command)?,
            nth: spec.nth,
            // One firing for an nth rule unless told otherwise; every request otherwise.
            times: spec.times.or(spec.nth.map(|_| 1)),
            reaction: spec.reaction.parse()?,
        })
    }
}

/// A rule with its counters, as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultStatus {
    pub id: u64,
    pub command: String,
    pub nth: Option<u64>,
    pub times: Option<u64>,
    pub reaction: String,
    /// Matching requests seen since the rule was added.
    pub seen: u64,
    /// Times the rule fired.
    pub hits: u64,
}

struct Active {
    id: u64,
    rule: FaultRule,
    seen: u64,
    hits: u64,
}

impl Active {
    /// Counts one matching request; true if the rule fires on it.
    fn observe(&mut self) -> bool {
        self.seen += 1;
        let from = self.rule.nth.unwrap_or(1);
        let fires = self.seen >= from && self.rule.times.is_none_or(|t| self.hits < t);
        if fires {
            self.hits += 1;
        }
        fires
    }
}

/// The server's rules.
#[derive(Default)]
pub struct FaultSet {
    rules: Mutex<(u64, Vec<Active>)>,
}

impl FaultSet {
    pub fn new(rules: impl IntoIterator<Item = FaultRule>) -> FaultSet {
        let set = FaultSet::default();
        for r in rules {
            set.add(r);
        }
        set
    }

    /// Adds a rule; its counting starts now. Returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut g = self.rules.lock();
        g.0 += 1;
        let id = g.0;
        g.1.push(Active {
            id,
            rule,
            seen: 0,
            hits: 0,
        });
        id
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut g = self.rules.lock();
        std::mem::take(&mut g.1).len()
    }

    /// The rules and their counters.
    pub fn list(&self) -> Vec<FaultStatus> {
        self.rules
            .lock()
            .1
            .iter()
            .map(|a| FaultStatus {
                id: a.id,
                command: a.rule.command.to_string(),
                nth: a.rule.nth,
                times: a.rule.times,
                reaction: a.rule.reaction.to_string(),
                seen: a.seen,
                hits: a.hits,
            })
            .collect()
    }

    /// Counts a request of `command` against every matching rule; the first rule that fires
    /// (in the order added) decides the reaction.
    pub fn check(&self, command: &str) -> Option<Reaction> {
        let mut g = self.rules.lock();
        let mut reaction = None;
        for a in g.1.iter_mut() {
            if a.rule.command == "any" || a.rule.command == command {
                let fires = a.observe();
                if fires && reaction.is_none() {
                    reaction = Some(a.rule.reaction);
                }
            }
        }
        reaction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_rules() {
        let r: FaultRule = "CommitTransaction:2:occ".parse().unwrap();
        assert_eq!(
            r,
            FaultRule {
                command: "CommitTransaction",
                nth: Some(2),
                times: Some(1),
                reaction: Reaction::Occ
            }
        );
        let r: FaultRule = "any:*:delay=250".parse().unwrap();
        assert_eq!(r.command, "any");
        assert_eq!(r.nth, None);
        assert_eq!(r.times, None);
        assert_eq!(r.reaction, Reaction::Delay(Duration::from_millis(250)));
        let r: FaultRule = "executestatement:1:http503".parse().unwrap();
        assert_eq!(r.command, "ExecuteStatement");
        for bad in [
            "",
            "Nope:1:occ",
            "CommitTransaction:0:occ",
            "CommitTransaction:x:occ",
            "CommitTransaction:1:boom",
            "CommitTransaction:1",
            "CommitTransaction:1:delay=x",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
        for s in [
            "occ",
            "invalid-session",
            "expired",
            "http500",
            "http503",
            "capacity",
            "rate",
            "delay=5",
            "drop",
        ] {
            assert_eq!(s.parse::<Reaction>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn counts_and_fires() {
        let set = FaultSet::new(["CommitTransaction:2:occ".parse::<FaultRule>().unwrap()]);
        assert_eq!(set.check("CommitTransaction"), None);
        assert_eq!(set.check("StartTransaction"), None);
        assert_eq!(set.check("CommitTransaction"), Some(Reaction::Occ));
        assert_eq!(set.check("CommitTransaction"), None);
        let l = set.list();
        assert_eq!((l[0].seen, l[0].hits), (3, 1));

        let set = FaultSet::default();
        set.add(
            FaultRuleSpec {
                command: "any".into(),
                nth: None,
                times: Some(2),
                reaction: "http500".into(),
            }
            .try_into()
            .unwrap(),
        );
        assert_eq!(set.check("StartSession"), Some(Reaction::Http500));
        assert_eq!(set.check("EndSession"), Some(Reaction::Http500));
        assert_eq!(set.check("EndSession"), None);
        set.add("StartSession:*:rate".parse().unwrap());
        assert_eq!(set.check("StartSession"), Some(Reaction::Rate));
        assert_eq!(set.check("StartSession"), Some(Reaction::Rate));
        assert_eq!(set.clear(), 2);
        assert_eq!(set.check("StartSession"), None);

        let spec = |nth, times| FaultRuleSpec {
            command: "FetchPage".into(),
            nth,
            times,
            reaction: "drop".into(),
        };
        let r: FaultRule = spec(Some(3), None).try_into().unwrap();
        assert_eq!(r.times, Some(1));
        assert!(FaultRule::try_from(spec(Some(0), None)).is_err());
        assert!(FaultRule::try_from(spec(None, Some(0))).is_err());
        let set = FaultSet::new([FaultRule::try_from(spec(Some(2), Some(2))).unwrap()]);
        let fired: Vec<bool> = (0..5).map(|_| set.check("FetchPage").is_some()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
    }
}
