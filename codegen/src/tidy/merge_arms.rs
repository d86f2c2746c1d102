//! Adjacent `match` arms with literal patterns and the same body merged.

use syn::punctuated::Punctuated;
use syn::visit_mut::{self, VisitMut};
use syn::{Arm, ExprMatch, Pat, PatOr, Token};

use super::syntax_text::text;

/// Apply the pass to `file`.
pub(super) fn merge_arms(file: &mut syn::File) {
    MergeArms.visit_file_mut(file);
}

/// Adjacent match arms with the same body and literal patterns become one
/// arm: progenitor writes one arm per documented status, and three error
/// statuses of one type were three copies of the same decoding future —
/// code every call of the operation carries through the instruction cache.
struct MergeArms;

fn literal_pattern(pat: &Pat) -> bool {
    match pat {
        Pat::Lit(_) => true,
        Pat::Or(or) => or.cases.iter().all(literal_pattern),
        _ => false,
    }
}

impl VisitMut for MergeArms {
    fn visit_expr_match_mut(&mut self, m: &mut ExprMatch) {
        visit_mut::visit_expr_match_mut(self, m);
        let mut merged: Vec<Arm> = Vec::with_capacity(m.arms.len());
        for arm in std::mem::take(&mut m.arms) {
            if let Some(last) = merged.last_mut()
                && last.guard.is_none()
                && arm.guard.is_none()
                && literal_pattern(&last.pat)
                && literal_pattern(&arm.pat)
                && text(&last.body) == text(&arm.body)
            {
                let mut cases: Punctuated<Pat, Token![|]> = Punctuated::new();
                for pat in [last.pat.clone(), arm.pat] {
                    match pat {
                        Pat::Or(or) => cases.extend(or.cases),
                        other => cases.push(other),
                    }
                }
                last.pat = Pat::Or(PatOr {
                    attrs: Vec::new(),
                    leading_vert: None,
                    cases,
                });
                continue;
            }
            merged.push(arm);
        }
        m.arms = merged;
    }
}
