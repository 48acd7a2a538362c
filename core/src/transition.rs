//! What the event engines (subscribe and presence) carry out on a change of state.

use crate::transcript::Transcript;

/// A transition's invocations, in order: `exit`'s of the state left, the transition's `own`,
/// then `entry`'s of the state entered; each noted in `transcript` by its `name`.
pub(crate) fn invocations<I>(
    exit: impl IntoIterator<Item = I>,
    own: Vec<I>,
    entry: impl IntoIterator<Item = I>,
    name: fn(&I) -> &'static str,
    transcript: &mut Transcript,
) -> Vec<I> {
    let mut out: Vec<I> = exit.into_iter().collect();
    out.extend(own);
    out.extend(entry);
    transcript.invocations(out.iter().map(name));
    out
}
