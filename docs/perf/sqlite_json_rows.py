#!/usr/bin/env python3
# The cost of sending a command's rows to SQLite as one JSON array (json_each + ->> per column)
# against bound VALUES: `python3 docs/perf/sqlite_json_rows.py` (needs SQLite >= 3.38).
import sqlite3, json, time, os, uuid
db=sqlite3.connect(':memory:')
db.execute("create table events(id integer primary key, app blob, seq int, kind text, actor text, state text, action text, comment text, payload text, at text, prev text, hash text, hp text)")
payload=json.dumps({"kind":"task_completed","at":"2026-11-28T16:44:08.123456789+00:00","actor":"chen","party":"ofds","task":3,"action":"nominate","input":{"question":"x"*200}})
cols=["app","seq","kind","actor","state","action","comment","payload","at","prev","hash","hp"]
def rows(n):
    return [{"app":uuid.uuid4().hex,"seq":i,"kind":"task_completed","actor":"chen","state":"ofds_nomination","action":"nominate","comment":None,"payload":payload,"at":"2026-11-28T16:44:08.123456789+00:00","prev":"a"*64,"hash":"b"*64,"hp":None} for i in range(n)]
N=5; IT=5000
sql_json="insert into events(%s) select %s from json_each(?)" % (",".join(cols), ",".join(("unhex(value->>'%s')" if c=="app" else "value->>'%s'") % c for c in cols))
# sqlite 3.40 lacks unhex: use plain
sql_json=sql_json.replace("unhex(value->>'app')","value->>'app'")
sql_vals="insert into events(%s) values %s" % (",".join(cols), ",".join("("+",".join("?"*len(cols))+")" for _ in range(N)))
r=rows(N); txt=json.dumps(r)
t=time.perf_counter()
for _ in range(IT): db.execute(sql_json,(txt,))
a=time.perf_counter()-t
vals=[v for row in r for v in (row[c] for c in cols)]
t=time.perf_counter()
for _ in range(IT): db.execute(sql_vals,vals)
b=time.perf_counter()-t
print(f"json_each: {a/IT*1e6:.1f} us/command, values: {b/IT*1e6:.1f} us/command (5 event rows)")
