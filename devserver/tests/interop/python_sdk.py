"""Drives the official PubNub Python SDK (pip package `pubnub`) against a pn-devserver.

Usage: python3 python_sdk.py <open origin host:port> <access-controlled origin host:port>

Prints one `OK <what> ...` line per check and `DONE` at the end; exits non-zero with a
`FAIL <what>: <why>` line on the first failure. Every wait is bounded by a few seconds.
"""

import sys
import threading
import time
import traceback

from pubnub.callbacks import SubscribeCallback
from pubnub.enums import PNStatusCategory
from pubnub.exceptions import PubNubException
from pubnub.pnconfiguration import PNConfiguration
from pubnub.pubnub import PubNub

WAIT = 5.0


def host_of(origin):
    return origin.split("://")[-1].rstrip("/")


def client(origin, user_id, auth=None):
    config = PNConfiguration()
    config.publish_key = "demo"
    config.subscribe_key = "demo"
    config.user_id = user_id
    config.origin = host_of(origin)
    config.ssl = False
    config.connect_timeout = 5
    config.non_subscribe_request_timeout = 5
    config.subscribe_request_timeout = 15
    config.daemon = True
    if auth:
        config.auth_key = auth
    return PubNub(config)


class Recorder(SubscribeCallback):
    """Collects statuses, messages, signals and presence events; lets the script wait for one."""

    def __init__(self):
        self.cond = threading.Condition()
        self.events = []

    def _add(self, kind, value):
        with self.cond:
            self.events.append((kind, value))
            self.cond.notify_all()

    def status(self, pubnub, status):
        self._add("status", status.category)

    def message(self, pubnub, message):
        self._add("message", message)

    def signal(self, pubnub, signal):
        self._add("signal", signal)

    def presence(self, pubnub, presence):
        self._add("presence", presence)

    def wait(self, what, predicate):
        deadline = time.monotonic() + WAIT
        with self.cond:
            while True:
                for kind, value in self.events:
                    if predicate(kind, value):
                        return value
                left = deadline - time.monotonic()
                if left <= 0:
                    fail(what, "timed out; saw %r" % [(k, getattr(v, "event", v)) for k, v in self.events])
                self.cond.wait(left)


def fail(what, why):
    print("FAIL %s: %s" % (what, why), flush=True)
    sys.exit(1)


def ok(*parts):
    print("OK " + " ".join(str(p) for p in parts), flush=True)


def main():
    open_origin, guarded_origin = sys.argv[1], sys.argv[2]
    publisher = client(open_origin, "py-publisher")
    listener = client(open_origin, "py-listener")
    visitor = client(open_origin, "py-visitor")
    clients = [publisher, listener, visitor]
    try:
        run(publisher, listener, visitor, guarded_origin, clients)
    finally:
        for c in clients:
            c.stop()


def run(publisher, listener, visitor, guarded_origin, clients):
    tt = publisher.time().sync().result
    if len(str(int(tt))) != 17:
        fail("time", tt)
    ok("time", int(tt))

    result = publisher.publish().channel("py-warmup").message({"hello": "world"}).sync().result
    ok("publish", result.timetoken)

    recorder = Recorder()
    listener.add_listener(recorder)
    listener.subscribe().channels(["py-ch"]).with_presence().execute()
    recorder.wait("connect", lambda k, v: k == "status" and v == PNStatusCategory.PNConnectedCategory)
    ok("connected")

    publisher.publish().channel("py-ch").message({"text": "hi", "n": 1}).meta({"from": "py"}).sync()
    message = recorder.wait("subscribe", lambda k, v: k == "message" and v.channel == "py-ch")
    if message.message != {"text": "hi", "n": 1} or message.publisher != "py-publisher":
        fail("subscribe", "%r from %r" % (message.message, message.publisher))
    ok("subscribe", message.message["text"], message.timetoken)

    publisher.signal().channel("py-ch").message("ping").sync()
    signal = recorder.wait("signal", lambda k, v: k == "signal")
    if signal.message != "ping":
        fail("signal", signal.message)
    ok("signal", signal.message)

    visitor.subscribe().channels(["py-ch"]).execute()
    joined = recorder.wait("join", lambda k, v: k == "presence" and v.event == "join" and v.uuid == "py-visitor")
    ok("presence join", joined.uuid, joined.occupancy)

    here = publisher.here_now().channels(["py-ch"]).include_uuids(True).sync().result
    uuids = sorted(o.uuid for ch in here.channels for o in ch.occupants)
    if "py-listener" not in uuids or "py-visitor" not in uuids:
        fail("here_now", uuids)
    ok("here_now", here.total_occupancy, ",".join(uuids))

    where = publisher.where_now().uuid("py-visitor").sync().result
    if "py-ch" not in where.channels:
        fail("where_now", where.channels)
    ok("where_now", ",".join(where.channels))

    visitor.set_state().channels(["py-ch"]).state({"mood": "happy"}).sync()
    changed = recorder.wait("state-change", lambda k, v: k == "presence" and v.event == "state-change")
    state = visitor.get_state().channels(["py-ch"]).sync().result
    if state.channels.get("py-ch") != {"mood": "happy"} or changed.state != {"mood": "happy"}:
        fail("state", "%r / %r" % (state.channels, changed.state))
    ok("state", state.channels["py-ch"]["mood"])

    visitor.unsubscribe().channels(["py-ch"]).execute()
    left = recorder.wait("leave", lambda k, v: k == "presence" and v.event == "leave" and v.uuid == "py-visitor")
    ok("presence leave", left.uuid, left.occupancy)

    publisher.add_channel_to_channel_group().channels(["py-g1", "py-g2"]).channel_group("py-group").sync()
    listed = publisher.list_channels_in_channel_group().channel_group("py-group").sync().result
    if sorted(listed.channels) != ["py-g1", "py-g2"]:
        fail("channel_groups", listed.channels)
    group_recorder = Recorder()
    visitor.add_listener(group_recorder)
    visitor.subscribe().channel_groups(["py-group"]).execute()
    group_recorder.wait("group connect", lambda k, v: k == "status" and v in (
        PNStatusCategory.PNConnectedCategory, PNStatusCategory.PNSubscriptionChangedCategory))
    publisher.publish().channel("py-g2").message("via group").sync()
    via = group_recorder.wait("group message", lambda k, v: k == "message" and v.message == "via group")
    if via.subscription != "py-group":
        fail("channel_groups", "subscription %r" % via.subscription)
    publisher.remove_channel_from_channel_group().channels(["py-g1"]).channel_group("py-group").sync()
    listed = publisher.list_channels_in_channel_group().channel_group("py-group").sync().result
    publisher.remove_channel_group().channel_group("py-group").sync()
    if listed.channels != ["py-g2"]:
        fail("channel_groups", listed.channels)
    ok("channel_groups", via.channel, via.subscription)

    try:
        publisher.signal().channel("py-ch").message("x" * 100).sync()
        fail("error 400", "oversized signal was accepted")
    except PubNubException as e:
        if e.get_status_code() != 400:
            fail("error 400", e)
        ok("error 400", e.get_status_code())

    guarded = client(guarded_origin, "py-guest", auth="nope")
    clients.append(guarded)
    try:
        guarded.publish().channel("py-locked").message("knock").sync()
        fail("error 403", "publish without a grant was accepted")
    except PubNubException as e:
        if e.get_status_code() != 403 or "py-locked" not in str(e):
            fail("error 403", e)
        ok("error 403", e.get_status_code())
    allowed = client(guarded_origin, "py-member", auth="py-token")
    clients.append(allowed)
    allowed.publish().channel("py-locked").message("granted").sync()
    ok("grant", "py-locked")

    print("DONE", flush=True)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        print("FAIL exception", flush=True)
        sys.exit(1)
