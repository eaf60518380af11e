"""source kubernetes_termination end to end: terminations from a fake kubelet's pod statuses and
termination-message files become one record each, exactly once across a restart; sidecar `path`
mode; the 4096-byte bound."""
import json
import os
import time

from harness import FIXTURES, SluiceTestCase, main
from test_kubernetes_metadata import NRI, TOKEN, KubeletServer, pods_of

DERIVED = os.path.join(FIXTURES, "kubelet/derived/podlist-failjob-with-termination-message.DERIVED.json")


def expected_terminations(items):
    out = {}
    for p in items:
        for c in p["status"].get("containerStatuses", []) + p["status"].get("initContainerStatuses", []):
            for st in ("state", "lastState"):
                t = c.get(st, {}).get("terminated")
                if t:
                    cid = t.get("containerID", "").split("://")[-1]
                    out[cid] = (p, c, t)
    return out


class TerminationTest(SluiceTestCase):
    def conf(self, kubelet, pods_dir=None, workers=1):
        self.token_file = self.write("token", TOKEN)
        return self.config("""
<system>
  workers %d
</system>
<source>
  @type kubernetes_termination
  kubelet_url %s
  ca_file %s
  bearer_token_file %s
  pods_dir %s
  state_file %s/termination.state
  refresh_interval 0.5
</source>
<match kubernetes.termination>
  @type stdout
</match>
""" % (workers, kubelet.url, kubelet.ca, self.token_file, pods_dir or self.path("pods"), self.dir))

    def test_terminations_once_across_restart(self):
        items = pods_of(NRI)
        want = expected_terminations(items)
        self.assertGreaterEqual(len(want), 7)
        # A termination-message file for a failed job whose status carries no message.
        failjob = [p for p in items if p["metadata"]["name"] == "e2e-failjob-4kj9v"][0]
        self.write("pods/%s/containers/main/3f2a1b" % failjob["metadata"]["uid"], "from the file: exit 42\n")
        kubelet = KubeletServer(self, NRI)
        conf = self.conf(kubelet)
        s = self.start(["-c", conf])
        recs = s.wait_records(len(want))
        time.sleep(1.5)  # more refreshes: still no duplicates
        recs = s.records()
        self.assertEqual(len(recs), len(want))
        by_id = {r["container_id"]: (tag, r) for _, tag, r in recs}
        self.assertEqual(set(by_id), set(want))
        for cid, (p, c, t) in want.items():
            tag, r = by_id[cid]
            self.assertEqual(tag, "kubernetes.termination")
            self.assertEqual(r["reason"], t["reason"])
            self.assertEqual(r["exit_code"], t["exitCode"])
            self.assertEqual(r["started_at"], t["startedAt"])
            self.assertEqual(r["finished_at"], t["finishedAt"])
            self.assertEqual(r["restart_count"], c["restartCount"])
            k = r["kubernetes"]
            self.assertEqual(k["pod_name"], p["metadata"]["name"])
            self.assertEqual(k["namespace_name"], p["metadata"]["namespace"])
            self.assertEqual(k["container_name"], c["name"])
            self.assertEqual(k["pod_id"], p["metadata"]["uid"])
            self.assertEqual(k.get("labels"), p["metadata"].get("labels"))
        fj = [r for _, r in by_id.values() if r["kubernetes"]["pod_name"] == "e2e-failjob-4kj9v"][0]
        self.assertEqual(fj["message"], "from the file: exit 42\n")
        self.assertEqual(list(fj.keys())[:8], ["message", "reason", "exit_code", "started_at", "finished_at",
                                               "container_id", "restart_count", "kubernetes"])
        s.stop()
        state = open(self.path("termination.state")).read()
        for cid in want:
            self.assertIn(cid, state)

        # Restart: nothing is shipped again. Then a new termination appears: exactly one record.
        s2 = self.start(["-c", conf])
        time.sleep(2)
        self.assertEqual(s2.records(), [])
        derived = json.load(open(DERIVED))
        pod = derived["items"][0]
        st = pod["status"]["containerStatuses"][0]
        st["state"]["terminated"]["containerID"] = "containerd://" + "ab" * 32
        st["state"]["terminated"]["message"] = "x" * 5000
        more = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items + [pod]}
        kubelet.control(pods=self.write("more.json", json.dumps(more)))
        recs = s2.wait_records(1)
        time.sleep(1.5)
        recs = s2.records()
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0][2]["container_id"], "ab" * 32)
        self.assertEqual(len(recs[0][2]["message"]), 4096)
        s2.stop()

    def test_with_two_workers_each_termination_is_shipped_once(self):
        want = expected_terminations(pods_of(NRI))
        kubelet = KubeletServer(self, NRI)
        s = self.start(["-c", self.conf(kubelet, workers=2)])
        s.wait_records(len(want))
        time.sleep(1.5)  # more refreshes, on both workers' loops
        ids = [r["container_id"] for _, _, r in s.records()]
        self.assertEqual(sorted(ids), sorted(want))
        self.assertEqual(s.stop(), 0)

    def test_sidecar_path_mode(self):
        term = self.path("shared/termination-log")
        os.makedirs(os.path.dirname(term))
        conf = self.config("""
<source>
  @type kubernetes_termination
  path %s
  state_file %s/t.state
  refresh_interval 0.1
  container_name app
</source>
<match kubernetes.termination>
  @type stdout
</match>
""" % (term, self.dir))
        env = {"POD_NAME": "web-1", "POD_NAMESPACE": "shop", "POD_UID": "uid-1", "NODE_NAME": "n1", "POD_IP": "10.0.0.9"}
        s = self.start(["-c", conf], env=env)
        time.sleep(0.5)
        self.assertEqual(s.records(), [])
        with open(term, "w") as f:
            f.write("panic: database unreachable")
        recs = s.wait_records(1)
        time.sleep(0.5)
        self.assertEqual(len(s.records()), 1)
        r = recs[0][2]
        self.assertEqual(r["message"], "panic: database unreachable")
        self.assertEqual(r["kubernetes"], {"container_name": "app", "namespace_name": "shop", "pod_name": "web-1",
                                           "pod_id": "uid-1", "pod_ip": "10.0.0.9", "host": "n1"})
        s.stop()
        s2 = self.start(["-c", conf], env=env)
        time.sleep(1)
        self.assertEqual(s2.records(), [])
        s2.stop()


if __name__ == "__main__":
    main()
