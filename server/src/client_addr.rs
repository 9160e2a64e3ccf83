//! The client's real address. Behind a reverse proxy every request comes from the
//! proxy, so `X-Forwarded-For` is read — but only when the peer is a proxy we trust,
//! and only up to the first address that is not one (the rest could be forged).
use axum::http::HeaderMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// From `--trusted-proxy` values: IPs or CIDRs (`10.0.0.0/8`, `::1`).
    pub fn parse(values: &[String]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let (ip, bits) = match v.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits)),
                None => (v, None),
            };
            let ip: IpAddr = ip
                .parse()
                .map_err(|_| format!("--trusted-proxy '{v}' is not an IP address or CIDR"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("--trusted-proxy '{v}' has a bad prefix length"))?,
                None => max,
            };
            nets.push((ip, bits));
        }
        Ok(TrustedProxies { nets })
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets
            .iter()
            .any(|(net, bits)| contains(*net, *bits, ip))
    }

    /// The client: the peer itself, or — when the peer is trusted — the right-most
    /// address in `X-Forwarded-For` that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .map(canonical)
            .collect();
        forwarded
            .iter()
            .rev()
            .find(|ip| !self.trusts(**ip))
            .copied()
            .unwrap_or(peer)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn contains(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    let (net, ip, width) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - bits as u32;
    (net >> shift) == (ip >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(none.client(peer, &xff("1.2.3.4")), peer, "untrusted peer");
        let t = TrustedProxies::parse(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        assert_eq!(
            t.client(peer, &xff("6.6.6.6, 1.2.3.4, 10.0.0.9")),
            "1.2.3.4".parse::<IpAddr>().unwrap(),
            "right-most untrusted; the forged left part is ignored"
        );
        assert_eq!(t.client(peer, &HeaderMap::new()), peer);
        assert_eq!(t.client(peer, &xff("garbage")), peer);
        assert!(t.trusts("::1".parse().unwrap()));
        assert!(!t.trusts("11.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse(&["10.0.0.0/40".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }
}
