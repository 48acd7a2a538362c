//! Human and JSON printing, with colour only when a terminal is attached.

use std::io::IsTerminal;

use pn_core::{Category, Event, Message, MessageKind, Status};

/// ANSI colours used by the human output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    /// Channel names.
    Cyan,
    /// Good news (connected, published).
    Green,
    /// Presence.
    Yellow,
    /// Failures.
    Red,
    /// Timetokens and other details.
    Dim,
    /// Headings.
    Bold,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Cyan => "36",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Red => "31",
            Color::Dim => "2",
            Color::Bold => "1",
        }
    }
}

/// Whether to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    pub fn for_stdout() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Colour when stderr is a terminal and `NO_COLOR` is unset.
    pub fn for_stderr() -> Style {
        Style {
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Whether a terminal is attached (progress lines are worth printing).
    pub fn is_terminal(&self) -> bool {
        self.color
    }

    /// `text` in `color`, or as is.
    pub fn paint(&self, color: Color, text: &str) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", color.code())
        } else {
            text.to_owned()
        }
    }

    /// One readable line for an event.
    pub fn event(&self, event: &Event) -> String {
        match event {
            Event::Message(m) => self.message(m),
            Event::Status(s) => self.status(s),
            Event::Result(r) => format!("result of {:?}: {:?}", r.operation, r.outcome),
        }
    }

    /// One readable line for a delivered message, signal, presence event, ….
    pub fn message(&self, m: &Message) -> String {
        let mut line = format!("{} ", self.paint(Color::Cyan, &format!("[{}]", m.channel)));
        if let Some(sub) = &m.subscription {
            line.push_str(&self.paint(Color::Dim, &format!("(via {sub}) ")));
        }
        match &m.kind {
            MessageKind::Presence(p) => {
                let who = p.uuid.as_deref().unwrap_or("-");
                line.push_str(&self.paint(Color::Yellow, &format!("{} {who}", p.action.as_str())));
                if let Some(n) = p.occupancy {
                    line.push_str(&format!(" (occupancy {n})"));
                }
                if let Some(state) = &p.state {
                    line.push_str(&format!(" state {}", state.get()));
                }
            }
            kind => {
                if !matches!(kind, MessageKind::Message) {
                    line.push_str(&self.paint(Color::Yellow, kind.as_str()));
                    line.push(' ');
                }
                if let Some(p) = &m.publisher {
                    line.push_str(&format!("{}: ", self.paint(Color::Bold, p)));
                }
                line.push_str(m.payload.get());
                if let Some(meta) = &m.user_metadata {
                    line.push_str(&self.paint(Color::Dim, &format!(" meta {}", meta.get())));
                }
            }
        }
        line.push_str(&self.paint(Color::Dim, &format!("  @{}", m.timetoken)));
        line
    }

    /// One readable line for a status.
    pub fn status(&self, s: &Status) -> String {
        let color = match s.category {
            Category::Connected
            | Category::Reconnected
            | Category::Acknowledgment
            | Category::SubscriptionChanged => Color::Green,
            Category::Disconnected | Category::Cancelled => Color::Dim,
            _ => Color::Red,
        };
        let mut line = format!("status {}", self.paint(color, s.category.as_str()));
        let names: Vec<&str> = s
            .channels
            .iter()
            .map(|c| c.as_str())
            .chain(s.groups.iter().map(|g| g.as_str()))
            .collect();
        if !names.is_empty() {
            line.push_str(&format!(" [{}]", names.join(", ")));
        }
        if let Some(e) = &s.error {
            line.push_str(&format!(": {e}"));
        }
        line
    }
}

/// Whether an event counts for `pn subscribe --count`: a delivered message of any kind but
/// presence.
pub fn counts_as_message(event: &Event) -> bool {
    matches!(event, Event::Message(m) if !matches!(m.kind, MessageKind::Presence(_)))
}

/// One JSON line for an event in the conformance event format (statuses as
/// `{"type":"status","category":…}`); `None` for operation results.
pub fn event_json(event: &Event) -> Option<String> {
    match event {
        Event::Message(m) => Some(pn_core::replay::event_json(m)),
        Event::Status(s) => Some(pn_core::replay::status_json(s)),
        Event::Result(_) => None,
    }
}

/// A JSON string literal for `s`.
pub fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_style_adds_no_escapes() {
        assert_eq!(Style { color: false }.paint(Color::Red, "x"), "x");
        assert_eq!(
            Style { color: true }.paint(Color::Red, "x"),
            "\x1b[31mx\x1b[0m"
        );
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b"), r#""a\"b""#);
    }
}
