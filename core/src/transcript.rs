//! An optional record of the engines' events and invocations, in the event-engine vocabulary
//! of the PubNub specifications (`ev SUBSCRIPTION_CHANGED`, `inv HANDSHAKE`, …).

/// The record; off (and free) unless switched on.
#[derive(Debug, Default)]
pub struct Transcript(Option<Vec<String>>);

impl Transcript {
    /// Switches recording on (emptying the record) or off.
    pub fn record(&mut self, on: bool) {
        self.0 = on.then(Vec::new);
    }

    /// Notes an event.
    pub fn event(&mut self, name: &str) {
        if let Some(t) = &mut self.0 {
            t.push(format!("ev {name}"));
        }
    }

    /// Notes invocations.
    pub fn invocations<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        if let Some(t) = &mut self.0 {
            t.extend(names.into_iter().map(|n| format!("inv {n}")));
        }
    }

    /// The record so far, emptied.
    pub fn take(&mut self) -> Vec<String> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
