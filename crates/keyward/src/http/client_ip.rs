//! Who the client is: the TCP peer, or, when the peer is one of `trusted_proxies`, the
//! address those proxies report in `X-Forwarded-For`.
//!
//! The failure limits and the audit log key on this address. Behind a load balancer every
//! request comes from the balancer, so without this one client's failures would lock out
//! everyone; but `X-Forwarded-For` is whatever the client wrote, so it is believed only from
//! peers the operator listed, and only as far as the chain of listed proxies goes: reading
//! right to left, the first address that is not a trusted proxy is the client. Anything a
//! client prepends sits further left and is never reached.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The client's address as resolved for this request, left in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// The `trusted_proxies` setting, parsed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDR ranges (`10.0.0.0/8`, `fd00::/8`) and single addresses (`192.0.2.7`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "{entry:?} is not an IP address or a CIDR range \
                             (e.g. 10.0.0.0/8, fd00::/8 or 192.0.2.7)"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, per the rule in this module's header.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several headers are one list, in order (RFC 9110 §5.3).
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            // A hop that is not an address ends what can be believed: the client is the
            // last address a trusted proxy vouched for.
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                return client;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// Resolves the client of every request once, for the extractors to read.
pub async fn resolve(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientIp(client));
    }
    next.run(request).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn client(proxies: &TrustedProxies, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        proxies.client(peer.parse().unwrap(), &headers).to_string()
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_peer_and_only_along_trusted_hops() {
        let none = proxies(&[]);
        let lb = proxies(&["10.0.0.0/8", "192.0.2.7"]);
        let cases: &[(&TrustedProxies, &str, &[&str], &str)] = &[
            // No proxies trusted: the header is ignored.
            (&none, "203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
            // A trusted balancer reports its client.
            (&lb, "10.1.2.3", &["198.51.100.1"], "198.51.100.1"),
            // A client that writes its own header is further left, never reached.
            (&lb, "10.1.2.3", &["1.1.1.1, 198.51.100.1"], "198.51.100.1"),
            // Two trusted hops: the first untrusted address from the right.
            (
                &lb,
                "10.1.2.3",
                &["198.51.100.1, 192.0.2.7"],
                "198.51.100.1",
            ),
            // Split over two headers, as one list.
            (
                &lb,
                "10.1.2.3",
                &["198.51.100.1", "10.9.9.9"],
                "198.51.100.1",
            ),
            // An untrusted peer's header is ignored.
            (&lb, "203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
            // No header: the peer.
            (&lb, "10.1.2.3", &[], "10.1.2.3"),
            // Garbage stops the walk at the last vouched-for address.
            (&lb, "10.1.2.3", &["198.51.100.1, not-an-ip"], "10.1.2.3"),
            // Every hop trusted: the left-most.
            (&lb, "10.1.2.3", &["10.0.0.1, 10.0.0.2"], "10.0.0.1"),
            // IPv4 through a dual-stack listener, and IPv4-mapped hops, are plain IPv4.
            (
                &lb,
                "::ffff:10.1.2.3",
                &["::ffff:198.51.100.1"],
                "198.51.100.1",
            ),
        ];
        for (proxies, peer, forwarded, expected) in cases {
            assert_eq!(
                client(proxies, peer, forwarded),
                *expected,
                "{peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn entries_that_are_not_addresses_or_ranges_are_refused_by_name() {
        let err = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.contains("\"10.0.0.0/33\""), "{err}");
        assert!(TrustedProxies::parse(&["fd00::/8".into(), " 192.0.2.7 ".into()]).is_ok());
    }
}
