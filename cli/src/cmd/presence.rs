//! `pn here-now`, `pn where-now`, `pn state get|set`.

use pn_core::{Channel, ChannelGroup, HereNowQuery};

use crate::args::{Global, HereNowArgs, StateCommand, WhereNowArgs};
use crate::error::Result;
use crate::output::{Color, Style};
use crate::transport::{self, Client};

fn channels(names: &[String]) -> Result<Vec<Channel>> {
    Ok(names
        .iter()
        .map(|n| Channel::new(n))
        .collect::<Result<_, _>>()?)
}

fn groups(names: &[String]) -> Result<Vec<ChannelGroup>> {
    Ok(names
        .iter()
        .map(|n| ChannelGroup::new(n))
        .collect::<Result<_, _>>()?)
}

/// Prints, per channel, its occupancy and the uuids present (one per line, indented).
pub fn here_now(g: &Global, a: HereNowArgs) -> Result<()> {
    let query = HereNowQuery {
        channels: channels(&a.channel)?,
        groups: groups(&a.group)?,
        include_uuids: true,
        include_state: a.state,
    };
    let client = Client::connect(g.transport, transport::config(g)?)?;
    let result = client.here_now(&query);
    client.close();
    let here = result?;
    let style = Style::for_stdout();
    for ch in &here.channels {
        println!(
            "{} occupancy {}",
            style.paint(Color::Cyan, ch.channel.as_str()),
            ch.occupancy
        );
        for o in &ch.occupants {
            match &o.state {
                Some(state) => println!("  {} {}", o.uuid, state.get()),
                None => println!("  {}", o.uuid),
            }
        }
    }
    Ok(())
}

/// Prints the channels a user is present on, one per line.
pub fn where_now(g: &Global, a: WhereNowArgs) -> Result<()> {
    let client = Client::connect(g.transport, transport::config(g)?)?;
    let result = client.where_now(a.uuid.as_deref());
    client.close();
    for ch in result? {
        println!("{ch}");
    }
    Ok(())
}

/// `get` prints `channel state-json` per channel; `set` prints the state as stored.
pub fn state(g: &Global, cmd: StateCommand) -> Result<()> {
    match cmd {
        StateCommand::Get(a) => {
            let chans: Vec<&str> = a.channel.iter().map(String::as_str).collect();
            let client = Client::connect(g.transport, transport::config(g)?)?;
            let result = client.get_state(&chans, a.uuid.as_deref());
            client.close();
            for (ch, state) in result? {
                println!("{ch} {}", state.get());
            }
        }
        StateCommand::Set(a) => {
            let chans: Vec<&str> = a.channel.iter().map(String::as_str).collect();
            let state = transport::raw_json(&a.state)?;
            let mut config = transport::config(g)?;
            if let Some(uuid) = a.uuid {
                config.user_id = uuid;
            }
            let client = Client::connect(g.transport, config)?;
            let result = client.set_state(&chans, &state);
            client.close();
            println!("{}", result?.get());
        }
    }
    Ok(())
}
