"""`@type http` (Fluentd's in_http) in the real binary: records POSTed as form parameters, JSON,
msgpack and ndjson bodies reach the outputs with the path as tag and the right times; the Helm
chart's liveness probe (a GET) answers 200; an oversized body gets 413, garbage gets 400, and
neither stops the requests that follow."""
import http.client
import json
import socket
import urllib.parse

from harness import SluiceTestCase, free_port, main, run, text


class HttpInputTest(SluiceTestCase):
    def start_http(self, extra=""):
        self.port = free_port()
        conf = self.config("""
<source>
  @type http
  bind 127.0.0.1
  port %d
  body_size_limit 4k
%s
</source>
<match fluentd.healthcheck>
  @type stdout
</match>
<match app.**>
  @type stdout
</match>
""" % (self.port, extra))
        return self.start(["-c", conf])

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data

    def test_records_from_every_body_kind(self):
        p = self.start_http()
        form = urllib.parse.urlencode({"json": json.dumps({"a": 1}), "time": "1700000000.5"})
        self.assertEqual(self.request("POST", "/app/form", form,
                                      {"Content-Type": "application/x-www-form-urlencoded"})[0], 200)
        self.assertEqual(self.request("POST", "/app.json?time=1600000000", json.dumps({"b": "x"}),
                                      {"Content-Type": "application/json"})[0], 200)
        self.assertEqual(self.request("POST", "/app.array",
                                      json.dumps([{"c": 1, "time": 1500000000}, "not a record", {"c": 2}]),
                                      {"Content-Type": "application/json"})[0], 200)
        # {"m": [1, "z"]} in msgpack.
        self.assertEqual(self.request("POST", "/app.msgpack", b"\x81\xa1m\x92\x01\xa1z",
                                      {"Content-Type": "application/msgpack"})[0], 200)
        self.assertEqual(self.request("POST", "/app.nd", b'{"n":1}\n{"n":2}\n',
                                      {"Content-Type": "application/x-ndjson"})[0], 200)
        got = p.wait_records(7)
        self.assertEqual(p.stop(), 0)
        by_tag = {}
        for t, tag, rec in got:
            by_tag.setdefault(tag, []).append((t, rec))
        self.assertEqual(by_tag["app.form"], [("2023-11-14 22:13:20.500000000 +0000", {"a": 1})])
        self.assertEqual(by_tag["app.json"], [("2020-09-13 12:26:40.000000000 +0000", {"b": "x"})])
        self.assertEqual([r for _, r in by_tag["app.array"]], [{"c": 1}, {"c": 2}])
        self.assertEqual(by_tag["app.array"][0][0], "2017-07-14 02:40:00.000000000 +0000")
        self.assertEqual(by_tag["app.msgpack"][0][1], {"m": [1, "z"]})
        self.assertEqual([r for _, r in by_tag["app.nd"]], [{"n": 1}, {"n": 2}])

    def test_healthcheck_limits_garbage_and_keepalive(self):
        p = self.start_http()
        status, _ = self.request("GET", "/fluentd.healthcheck?json=%7B%22ping%22%3A+%22pong%22%7D")
        self.assertEqual(status, 200)

        status, body = self.request("POST", "/app.big", json.dumps({"x": "y" * 10000}),
                                    {"Content-Type": "application/json"})
        self.assertEqual(status, 413)
        self.assertIn(b"body_size_limit", body)

        status, body = self.request("POST", "/app.bad", "{not json", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn(b"invalid JSON", body)

        # Not HTTP at all: a 400, and the connection is closed.
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"\x16\x03\x01\x00\xff garbage\r\n\r\n")
        answer = s.recv(4096)
        s.close()
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)

        # The server carries on, and one keep-alive connection serves several requests.
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for i in range(3):
            self.assertEqual(self.request("POST", "/app.after", json.dumps({"i": i}),
                                          {"Content-Type": "application/json"}, conn=c)[0], 200)
        c.close()
        # Pipelined: three requests in one write, three answers in order.
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(b"".join(b"POST /app.piped HTTP/1.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 7\r\n\r\n{\"p\":%d}" % i for i in range(3)))
        answers = b""
        while answers.count(b"HTTP/1.1 200 OK") < 3:
            chunk = s.recv(4096)
            self.assertTrue(chunk, answers)
            answers += chunk
        s.close()
        got = p.wait_records(6)
        self.assertEqual(p.stop(), 0)
        # The health check GET was answered and, as in Fluentd 1.18, is no event.
        self.assertEqual([(tag, r) for _, tag, r in got],
                         [("app.after", {"i": 0}), ("app.after", {"i": 1}), ("app.after", {"i": 2}),
                          ("app.piped", {"p": 0}), ("app.piped", {"p": 1}), ("app.piped", {"p": 2})])
        err = p.stderr()
        self.assertIn("413", err)
        self.assertNotIn("y" * 100, err)

    def test_every_worker_serves_the_port(self):
        self.port = free_port()
        conf = self.config("""
<system>
  workers 2
</system>
<source>
  @type http
  bind 127.0.0.1
  port %d
</source>
<match app.**>
  @type stdout
</match>
""" % self.port)
        p = self.start(["-c", conf], ready=False)
        p.wait_until(lambda: p.stderr().count("worker is now running") == 2, 20, "both workers")
        for i in range(40):
            self.assertEqual(self.request("POST", "/app.w", json.dumps({"i": i}),
                                          {"Content-Type": "application/json", "Connection": "close"})[0], 200)
        got = p.wait_records(40)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(sorted(r["i"] for _, _, r in got), list(range(40)))

    def test_parse_sections(self):
        # A <parse> with a @type reads the whole body with that parser; one without sets the
        # time rule of the default json/msgpack rules.
        self.port = free_port()
        other = free_port()
        conf = self.config("""
<source>
  @type http
  bind 127.0.0.1
  port %d
  <parse>
    @type regexp
    expression /^(?<level>\\w+) (?<msg>.*)$/
  </parse>
</source>
<source>
  @type http
  bind 127.0.0.1
  port %d
  <parse>
    time_key ts
    time_format %%Y-%%m-%%dT%%H:%%M:%%S%%z
  </parse>
</source>
<match app.**>
  @type stdout
</match>
""" % (self.port, other))
        p = self.start(["-c", conf])
        self.assertEqual(self.request("POST", "/app.text?time=1700000000", "warn disk almost full",
                                      {"Content-Type": "text/plain"})[0], 200)
        c = http.client.HTTPConnection("127.0.0.1", other, timeout=10)
        c.request("POST", "/app.timed", json.dumps({"ts": "2020-06-10T01:14:27+0000", "a": 1}),
                  {"Content-Type": "application/json"})
        self.assertEqual(c.getresponse().status, 200)
        c.close()
        got = p.wait_records(2)
        self.assertEqual(p.stop(), 0)
        by_tag = {tag: (t, r) for t, tag, r in got}
        self.assertEqual(by_tag["app.text"], ("2023-11-14 22:13:20.000000000 +0000",
                                              {"level": "warn", "msg": "disk almost full"}))
        self.assertEqual(by_tag["app.timed"], ("2020-06-10 01:14:27.000000000 +0000", {"a": 1}))

    def test_request_fields_and_config_mistakes(self):
        p = self.start_http("  add_remote_addr true\n  add_query_params true\n  use_204_response true\n")
        status, _ = self.request("POST", "/app.f?k=v", json.dumps({"a": 1}), {"Content-Type": "application/json"})
        self.assertEqual(status, 204)
        got = p.wait_records(1)
        self.assertEqual(p.stop(), 0)
        self.assertEqual(got[0][2], {"a": 1, "QUERY_K": "v", "REMOTE_ADDR": "127.0.0.1"})

        conf = self.config("""
<source>
  @type http
  port 9880
  body_size_limt 1m
  cors_allow_credentials true
</source>
""", "bad.conf")
        r = run(["--dry-run", "-c", conf])
        self.assertEqual(r.returncode, 1)
        err = text(r.stderr)
        self.assertRegex(err, r"bad.conf:5: .*body_size_limt.*body_size_limit")


if __name__ == "__main__":
    main()
