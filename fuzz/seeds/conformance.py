"""Writes the decoder targets' seed corpus from the recorded conformance traffic.

    python3 fuzz/seeds/conformance.py [../shared/conformance]

Every recorded answer becomes one file `STATUS[ RETRY-AFTER]\\n<body>` (the input format of
`pn_fuzz_checks::response`): subscribe answers go to `fuzz/corpus/subscribe_decoder/`, all
others to `fuzz/corpus/bodies/`. Answers that differ only in their digits (timetokens,
timestamps, occupancy) are kept once. File names are the SHA-1 of the content, as libFuzzer
names the files it adds.
"""

import base64
import hashlib
import json
import pathlib
import re
import sys

here = pathlib.Path(__file__).resolve().parent.parent
source = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent.parent / "shared" / "conformance"
seen = set()
written = {"subscribe_decoder": 0, "bodies": 0}
for path in sorted(source.glob("*.jsonl")):
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        body = record.get("response_body") or ""
        if "response_body_base64" in (record.get("notes") or []):
            body = base64.b64decode(body)
        else:
            body = body.encode()
        retry = next((v for k, v in (record.get("response_headers") or {}).items()
                      if k.lower() == "retry-after"), None)
        head = str(record.get("status") or 200) + (f" {retry}" if retry else "")
        data = head.encode() + b"\n" + body
        target = "subscribe_decoder" if record["endpoint"] == "subscribe" else "bodies"
        shape = (target, re.sub(rb"[0-9]+", b"0", data))
        if shape in seen:
            continue
        seen.add(shape)
        out = here / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
        written[target] += 1
print(written)
