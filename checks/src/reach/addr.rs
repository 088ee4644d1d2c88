//! Sets of IPv4 addresses as sorted, disjoint, inclusive intervals, so that
//! rule evaluation can say "these addresses are still undecided" exactly,
//! for overlapping CIDRs and partial matches alike.

use ipnet::Ipv4Net;
use std::fmt;

/// A set of IPv4 addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrSet(Vec<(u32, u32)>);

fn bounds(net: &Ipv4Net) -> (u32, u32) {
    (u32::from(net.network()), u32::from(net.broadcast()))
}

impl AddrSet {
    pub fn empty() -> Self {
        AddrSet(Vec::new())
    }

    /// Every IPv4 address.
    pub fn any() -> Self {
        AddrSet(vec![(0, u32::MAX)])
    }

    pub fn from_nets<'a>(nets: impl IntoIterator<Item = &'a Ipv4Net>) -> Self {
        let mut set = AddrSet::empty();
        for n in nets {
            set = set.union(&AddrSet(vec![bounds(n)]));
        }
        set
    }

    pub fn from_net(net: &Ipv4Net) -> Self {
        AddrSet(vec![bounds(net)])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_everything(&self) -> bool {
        self.0 == [(0, u32::MAX)]
    }

    pub fn union(&self, other: &AddrSet) -> AddrSet {
        let mut all: Vec<(u32, u32)> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::new();
        for (lo, hi) in all {
            match out.last_mut() {
                Some((_, last_hi)) if lo <= last_hi.saturating_add(1) => {
                    *last_hi = (*last_hi).max(hi);
                }
                _ => out.push((lo, hi)),
            }
        }
        AddrSet(out)
    }

    pub fn intersect(&self, other: &AddrSet) -> AddrSet {
        let mut out = Vec::new();
        for &(a_lo, a_hi) in &self.0 {
            for &(b_lo, b_hi) in &other.0 {
                let lo = a_lo.max(b_lo);
                let hi = a_hi.min(b_hi);
                if lo <= hi {
                    out.push((lo, hi));
                }
            }
        }
        AddrSet(out).union(&AddrSet::empty())
    }

    pub fn subtract(&self, other: &AddrSet) -> AddrSet {
        let mut current = self.0.clone();
        for &(b_lo, b_hi) in &other.0 {
            let mut next = Vec::new();
            for (lo, hi) in current {
                if b_hi < lo || b_lo > hi {
                    next.push((lo, hi));
                    continue;
                }
                if b_lo > lo {
                    next.push((lo, b_lo - 1));
                }
                if b_hi < hi {
                    next.push((b_hi + 1, hi));
                }
            }
            current = next;
        }
        AddrSet(current)
    }

    /// True when every address of `other` is in this set.
    pub fn covers(&self, other: &AddrSet) -> bool {
        other.subtract(self).is_empty()
    }
}

impl fmt::Display for AddrSet {
    /// The set as CIDRs, e.g. `10.0.0.0/24, 10.0.2.0/23`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut start = lo as u64;
            let end = hi as u64;
            while start <= end {
                // The largest aligned block starting at `start` that fits.
                let mut size: u64 = if start == 0 {
                    1 << 32
                } else {
                    1 << start.trailing_zeros().min(32)
                };
                while start + size - 1 > end {
                    size >>= 1;
                }
                let prefix = 32 - size.trailing_zeros();
                parts.push(format!(
                    "{}/{}",
                    std::net::Ipv4Addr::from(start as u32),
                    prefix
                ));
                start += size;
            }
        }
        if parts.is_empty() {
            return write!(f, "(none)");
        }
        if parts.len() > 4 {
            let n = parts.len() - 3;
            parts.truncate(3);
            parts.push(format!("… {n} more"));
        }
        write!(f, "{}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn overlapping_cidrs_merge_and_subtract() {
        let a = AddrSet::from_nets(&[net("10.0.0.0/24"), net("10.0.0.128/25"), net("10.0.1.0/24")]);
        assert_eq!(a.to_string(), "10.0.0.0/23");
        let rest = a.subtract(&AddrSet::from_net(&net("10.0.0.0/24")));
        assert_eq!(rest.to_string(), "10.0.1.0/24");
        assert!(AddrSet::any().covers(&a));
        assert!(!AddrSet::from_net(&net("10.0.0.0/24")).covers(&a));
        assert_eq!(
            a.intersect(&AddrSet::from_net(&net("10.0.1.128/25")))
                .to_string(),
            "10.0.1.128/25"
        );
    }

    #[test]
    fn everything_and_display() {
        assert_eq!(AddrSet::any().to_string(), "0.0.0.0/0");
        assert!(AddrSet::from_net(&net("0.0.0.0/0")).is_everything());
        let hole = AddrSet::any().subtract(&AddrSet::from_net(&net("10.0.0.0/8")));
        assert!(!hole.is_everything());
        assert!(hole
            .to_string()
            .starts_with("0.0.0.0/5, 8.0.0.0/7, 11.0.0.0/8"));
        assert_eq!(AddrSet::empty().to_string(), "(none)");
    }
}
