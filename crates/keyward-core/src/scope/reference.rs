//! The plain reference model of PRODUCT.md §3's matching rule that the property tests hold
//! the real matching to.

/// The matching rule, written the plain way: `*`, or the held scope's `:`-separated
/// parts are a prefix of the required scope's parts.
pub fn reference_grants(held: &[String], required: &str) -> bool {
    let req: Vec<&str> = required.split(':').collect();
    held.iter().any(|h| {
        let parts: Vec<&str> = h.split(':').collect();
        h == "*" || (parts.len() <= req.len() && parts[..] == req[..parts.len()])
    })
}
