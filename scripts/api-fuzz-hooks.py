"""Schemathesis hooks for scripts/api-fuzz.sh.

The document describes every rule the server applies, but some cannot be written as JSON
Schema: rules between parameters, and rules about the organisation's own data. Before a
schema-valid request is sent, these hooks make it obey them too, so that the fuzzer's
"valid data is accepted" check tests the rest. Invalid requests are left alone.

- `to` is not before `from` (a 400, as the document says);
- `rep` names a representative the organisation has (API_FUZZ_REP; an unknown one is a 400);
- custom field keys are a few fixed text fields, so that calls stay within the fields an
  organisation may create (422);
- criterion keys are the demo organisation's criteria (an unknown criterion is a 422).

Two rules the fuzzer used to be taught are gone from the server instead: `period` given with
`from`/`to` is answered (the range wins), and an `external_id` given twice in one call, also
once trimmed, is one conversation (the last item wins). Both are in the document's
descriptions, and neither refuses a schema-valid request.
"""

import os
import re

import schemathesis

REP = os.environ.get("API_FUZZ_REP")
FIELD_KEYS = ["fuzz_a", "fuzz_b", "fuzz_c"]
FIELD_KEY = re.compile(r"[a-z0-9_]{1,64}\Z")
# The demo's criteria (app/src/demo.rs).
CRITERION_KEYS = ["greeting", "discovery", "product_knowledge", "empathy", "resolution", "compliance"]


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    if not _positive(case):
        return
    if case.method.upper() == "GET" and isinstance(case.query, dict):
        query = case.query
        start, end = query.get("from"), query.get("to")
        if isinstance(start, str) and isinstance(end, str) and end < start:
            query["from"], query["to"] = end, start
        if REP and "rep" in query:
            query["rep"] = REP
    elif case.method.upper() == "POST" and isinstance(case.body, list):
        for item in case.body:
            if not isinstance(item, dict):
                continue
            fields = item.get("fields")
            if isinstance(fields, dict):
                item["fields"] = {
                    (FIELD_KEYS[sum(map(ord, key)) % len(FIELD_KEYS)] if FIELD_KEY.match(key) else key): value
                    for key, value in fields.items()
                }
            criteria = item.get("criteria")
            if isinstance(criteria, dict):
                item["criteria"] = {
                    (CRITERION_KEYS[sum(map(ord, key)) % len(CRITERION_KEYS)] if FIELD_KEY.match(key) else key): value
                    for key, value in criteria.items()
                }
