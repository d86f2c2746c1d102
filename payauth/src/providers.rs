//! Every provider, once: `payauth`, the demo, the soak and the tests
//! iterate this list (nothing else names the providers one by one).

use payauth_runtime::descriptor::Descriptor;

/// Every provider SDK of the workspace.
pub static ALL: &[&Descriptor] = &[
    &exirom::descriptor::DESCRIPTOR,
    &institution::descriptor::DESCRIPTOR,
    &pledg::descriptor::DESCRIPTOR,
    &bursagb::descriptor::DESCRIPTOR,
    &axept::descriptor::DESCRIPTOR,
];

/// The provider called `name` (ASCII case ignored).
pub fn find(name: &str) -> Option<&'static Descriptor> {
    ALL.iter()
        .copied()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The providers' names, in the list's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|d| d.name)
}
