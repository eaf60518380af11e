"""filter kubernetes_metadata end to end: the real binary tails container log files named like the
kubelet's, enriches them from a fake kubelet (HTTPS, test CA, bearer token; tests/servers/
kubelet_server.py) and prints Fluentd stdout lines, which are checked field by field."""
import json
import os
import signal
import subprocess
import time

from harness import FIXTURES, REPO, SluiceTestCase, cri_line, cri_tail_source, main, run, wait_for_port_file

SERVER = os.path.join(REPO, "tests/servers/kubelet_server.py")
NRI = os.path.join(FIXTURES, "kubelet/nri-kubernetes/kubelet-pods-k8s-1.35-kind-containerd.json")
CASSETTES = os.path.join(FIXTURES, "kubelet/fabric8-kubernetes_metadata_filter-cassettes")
EXPECTED = os.path.join(FIXTURES, "expected-k8s-output/fluentd-kubernetes_metadata_filter-expected.json")
TOKEN = "s3cr3t-token-value"


def pods_of(path):
    with open(path) as f:
        return json.load(f)["items"]


class KubeletServer:
    def __init__(self, case, pods, namespaces=None, plain=False, token=TOKEN):
        self.dir = case.path("kubelet")
        os.makedirs(self.dir, exist_ok=True)
        args = ["python3", SERVER, "--dir", self.dir, "--pods", pods, "--token", token]
        if namespaces:
            args += ["--namespaces", namespaces]
        if plain:
            args.append("--plain")
        self.proc = subprocess.Popen(args)
        case.addCleanup(self.stop)
        self.port = wait_for_port_file(self.proc, os.path.join(self.dir, "port"), "kubelet test server", 20)
        self.url = "%s://127.0.0.1:%d" % ("http" if plain else "https", self.port)
        self.ca = os.path.join(self.dir, "pki/ca.crt")

    def control(self, **kw):
        tmp = os.path.join(self.dir, "control.json.tmp")
        with open(tmp, "w") as f:
            json.dump(kw, f)
        os.rename(tmp, os.path.join(self.dir, "control.json"))

    def requests(self):
        try:
            return open(os.path.join(self.dir, "requests.log")).read().splitlines()
        except OSError:
            return []

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def kubelet_filter(case, kubelet):
    """A <filter kubernetes.**> of kubernetes_metadata reading pods from `kubelet` (a KubeletServer),
    its token written to the test's directory; for the tests of outputs that get the metadata."""
    token_file = case.write("kubelet-token", TOKEN)
    return """
<filter kubernetes.**>
  @type kubernetes_metadata
  kubelet_url %s
  ca_file %s
  bearer_token_file %s
  skip_namespace_metadata true
</filter>
""" % (kubelet.url, kubelet.ca, token_file)


def container_file(pod, container_name, ns=None, cid=None):
    st = [c for c in pod["status"].get("containerStatuses", []) if c["name"] == container_name][0]
    cid = cid or st["containerID"].split("://", 1)[1]
    return "%s_%s_%s-%s.log" % (pod["metadata"]["name"], ns or pod["metadata"]["namespace"], container_name, cid)


class KubernetesMetadataTest(SluiceTestCase):
    def setUp(self):
        super().setUp()
        os.makedirs(self.path("var/log/containers"))
        self.token_file = self.write("token", TOKEN + "\n")

    def conf(self, kubelet, extra="", filter_extra="", skip_ns=True):
        return self.config(cri_tail_source(self.dir) + """
<filter kubernetes.**>
  @type kubernetes_metadata
  kubelet_url %s
  ca_file %s
  bearer_token_file %s
  skip_namespace_metadata %s
  read_timeout 2
  open_timeout 1
  initial_fetch_timeout 3
  %s
</filter>
<match **>
  @type stdout
</match>
%s
""" % (kubelet.url, kubelet.ca, self.token_file, "true" if skip_ns else "false",
       filter_extra, extra))

    def write_log(self, name, n, start=0):
        p = self.path("var/log/containers", name)
        with open(p, "a") as f:
            for i in range(start, start + n):
                f.write(cri_line(i))
        return p

    def start_sluice(self, conf, env=None):
        e = {"K8S_NODE_NAME": "", "NODE_NAME": "", "KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": ""}
        e.update(env or {})
        return self.start(["-c", conf], env=e)

    # --- the normal case -----------------------------------------------------------------------

    def test_real_kubelet_podlist_enriches_field_by_field(self):
        kubelet = KubeletServer(self, NRI)
        pods = {p["metadata"]["name"]: p for p in pods_of(NRI)}
        hpa = pods["e2e-hpa-6cd8d99884-tggnr"]
        coredns = pods["coredns-7d764666f9-qdcxt"]
        self.write_log(container_file(hpa, "php-apache"), 3)
        self.write_log(container_file(coredns, "coredns"), 2)
        s = self.start_sluice(self.conf(kubelet, filter_extra="kubernetes_url https://10.96.0.1:443/api\n  annotation_match [\"^kubectl\", \"seccomp\"]"))
        recs = s.wait_records(5)
        by_pod = {}
        for _, tag, r in recs:
            by_pod.setdefault(r["kubernetes"]["pod_name"], []).append(r)
        self.assertEqual(len(by_pod["e2e-hpa-6cd8d99884-tggnr"]), 3)
        r = by_pod["e2e-hpa-6cd8d99884-tggnr"][0]
        st = hpa["status"]["containerStatuses"][0]
        self.assertEqual(list(r.keys()), ["stream", "logtag", "message", "time", "docker", "kubernetes"])
        self.assertEqual(r["docker"], {"container_id": st["containerID"].split("://")[1]})
        k = r["kubernetes"]
        expected = {
            "container_name": "php-apache",
            "namespace_name": "scraper",
            "pod_name": "e2e-hpa-6cd8d99884-tggnr",
            "container_image": st["image"],
            "container_image_id": st["imageID"],
            "pod_id": hpa["metadata"]["uid"],
            "pod_ip": hpa["status"]["podIP"],
            "host": hpa["spec"]["nodeName"],
            "labels": hpa["metadata"]["labels"],
            "master_url": "https://10.96.0.1:443/api",
        }
        ann = {a: v for a, v in hpa["metadata"].get("annotations", {}).items() if a.startswith("kubectl") or "seccomp" in a}
        if ann:
            expected["annotations"] = ann
        self.assertEqual(k, expected)
        # Fluentd's key order (fluentd-observed.md §3.2).
        order = [x for x in ["container_name", "namespace_name", "pod_name", "container_image", "container_image_id",
                             "pod_id", "pod_ip", "host", "labels", "annotations", "master_url"] if x in expected]
        self.assertEqual(list(k.keys()), order)
        self.assertEqual(list(k["labels"].keys()), list(hpa["metadata"]["labels"].keys()))
        self.assertEqual(by_pod["coredns-7d764666f9-qdcxt"][0]["kubernetes"]["namespace_name"], "kube-system")
        # The token was sent, and never logged.
        self.assertTrue(any(l.startswith("/pods 1") for l in kubelet.requests()))
        self.assertNotIn(TOKEN, s.stderr())
        s.stop()

    def test_fluentd_expected_record_from_cassette_pod(self):
        """The fabric8 plugin's own expectation ("with docker & kubernetes metadata" and the
        /var/log/pods case), with the cassette's Pod served as the node's PodList."""
        cases = {c["test"]: c for c in json.load(open(EXPECTED))["cases"]}
        kubelet = KubeletServer(self, os.path.join(CASSETTES, "kubernetes_get_pod.yml"))
        case = cases["with docker & kubernetes metadata using skip namespace labels config param"]
        # That case: skip_master_url + skip_namespace_labels; namespace_id needs the API server
        # (not queried here), so it is the one field we do not produce in kubelet mode.
        name = case["tag"][len("var.log.containers."):]
        self.write_log(name, 1)
        s = self.start_sluice(self.conf(kubelet, filter_extra="skip_master_url true"))
        recs = s.wait_records(1)
        got = recs[0][2]
        want = dict(case["expected_record"])
        want_k = dict(want["kubernetes"])
        want_k.pop("namespace_id")
        self.assertEqual(got["kubernetes"], want_k)
        self.assertEqual(got["docker"], want["docker"])
        s.stop()

    def test_api_server_mode_with_namespaces_matches_fluentd_expected(self):
        cases = {c["test"]: c for c in json.load(open(EXPECTED))["cases"]}
        case = cases["with docker & kubernetes metadata"]
        api = KubeletServer(self, os.path.join(CASSETTES, "kubernetes_get_pod.yml"),
                            namespaces=os.path.join(CASSETTES, "kubernetes_get_namespace_default.yml"))
        name = case["tag"][len("var.log.containers."):]
        self.write_log(name, 1)
        conf = self.conf(api, skip_ns=False, filter_extra="use_kubelet false\n  kubernetes_url %s/api" % api.url)
        s = self.start_sluice(conf, env={"K8S_NODE_NAME": "jimmi-redhat.localnet"})
        recs = s.wait_records(1)
        got = recs[0][2]
        want = case["expected_record"]
        want_k = dict(want["kubernetes"])
        want_k["master_url"] = api.url + "/api"
        self.assertEqual(got["kubernetes"], want_k)
        self.assertEqual(got["docker"], want["docker"])
        reqs = kubelet_paths = [l.split()[0] for l in api.requests()]
        self.assertIn("/api/v1/pods?resourceVersion=0&fieldSelector=spec.nodeName%3Djimmi-redhat.localnet", reqs)
        self.assertIn("/api/v1/namespaces?resourceVersion=0", reqs)
        s.stop()

    # --- failures --------------------------------------------------------------------------------

    def assert_fallback(self, mode, log_fragment, **ctl):
        kubelet = KubeletServer(self, NRI)
        kubelet.control(mode=mode, **ctl)
        pod = [p for p in pods_of(NRI) if p["metadata"]["name"] == "e2e-hpa-6cd8d99884-tggnr"][0]
        name = container_file(pod, "php-apache")
        self.write_log(name, 4)
        t0 = time.monotonic()
        s = self.start_sluice(self.conf(kubelet))
        recs = s.wait_records(4, timeout=20)
        elapsed = time.monotonic() - t0
        cid = name[-68:-4]
        for _, _, r in recs:
            self.assertEqual(r["kubernetes"], {"container_name": "php-apache", "namespace_name": "scraper",
                                               "pod_name": "e2e-hpa-6cd8d99884-tggnr"})
            self.assertEqual(r["docker"], {"container_id": cid})
        self.assertLess(elapsed, 12, "records were held back")
        err = s.stderr()
        self.assertIn(log_fragment, err)
        self.assertNotIn(TOKEN, err)
        # Logged once per cause, though refreshes keep failing.
        self.write_log(name, 4, start=4)
        s.wait_records(8)
        time.sleep(1.5)
        self.assertEqual(s.stderr().count(log_fragment), 1, s.stderr())
        # Recovery: the kubelet answers again, later records get the pod.
        kubelet.control(mode="ok")
        time.sleep(1.2)
        self.write_log(name, 1, start=8)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self.write_log(name, 1, start=9)
            time.sleep(1)
            if "labels" in s.records()[-1][2]["kubernetes"]:
                break
        self.assertIn("labels", s.records()[-1][2]["kubernetes"])
        s.stop()
        return s

    def test_401_fallback(self):
        self.assert_fallback("401", "HTTP 401")

    def test_403_fallback(self):
        self.assert_fallback("403", "HTTP 403")

    def test_500_fallback(self):
        self.assert_fallback("500", "HTTP 500")

    def test_truncated_json_fallback(self):
        self.assert_fallback("truncated", "unusable response")

    def test_garbage_fallback(self):
        self.assert_fallback("garbage", "unusable response")

    def test_slow_kubelet_fallback(self):
        self.assert_fallback("slow", "timeout", delay=30)

    def test_unreachable_kubelet(self):
        kubelet = KubeletServer(self, NRI)
        kubelet.stop()
        pod = pods_of(NRI)[0]
        name = container_file(pod, pod["status"]["containerStatuses"][0]["name"])
        self.write_log(name, 2)
        s = self.start_sluice(self.conf(kubelet))
        recs = s.wait_records(2, timeout=15)
        self.assertEqual(recs[0][2]["kubernetes"]["pod_name"], pod["metadata"]["name"])
        self.assertNotIn("labels", recs[0][2]["kubernetes"])
        self.assertIn("onnect", s.stderr())
        s.stop()

    # --- refresh, gone pods ----------------------------------------------------------------------

    def test_new_pod_triggers_refresh_and_gone_pod_keeps_metadata(self):
        all_pods = pods_of(NRI)
        first = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": all_pods[:-1]}
        second = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": all_pods[1:]}
        p1 = self.write("pods-first.json", json.dumps(first))
        p2 = self.write("pods-second.json", json.dumps(second))
        kubelet = KubeletServer(self, p1)
        gone, new = all_pods[0], all_pods[-1]
        self.write_log(container_file(gone, gone["status"]["containerStatuses"][0]["name"]), 1)
        s = self.start_sluice(self.conf(kubelet, filter_extra="refresh_interval 600"))
        recs = s.wait_records(1)
        self.assertEqual(recs[0][2]["kubernetes"]["pod_id"], gone["metadata"]["uid"])
        # The kubelet now lists the new pod and no longer the first one.
        kubelet.control(pods=p2)
        n0 = len(kubelet.requests())
        new_name = container_file(new, new["status"]["containerStatuses"][0]["name"])
        self.write_log(new_name, 1)
        recs = s.wait_records(2)
        # A brand-new pod's first batch may carry only the tag's fields; the refresh it triggers
        # brings the rest for the following lines.
        deadline = time.monotonic() + 10
        i = 1
        while time.monotonic() < deadline:
            last = s.records()[-1][2]["kubernetes"]
            if "pod_id" in last and last["pod_name"] == new["metadata"]["name"]:
                break
            self.write_log(new_name, 1, start=i)
            i += 1
            time.sleep(0.5)
        last = s.records()[-1][2]["kubernetes"]
        self.assertEqual(last["pod_id"], new["metadata"]["uid"])
        self.assertGreater(len(kubelet.requests()), n0, "the unknown pod triggered a refresh")
        self.assertLessEqual(len(kubelet.requests()) - n0, 6, "refreshes are rate-limited")
        # The gone pod keeps its last-seen metadata.
        self.write_log(container_file(gone, gone["status"]["containerStatuses"][0]["name"]), 1, start=1)
        time.sleep(1)
        mine = [r for _, _, r in s.records() if r["kubernetes"]["pod_name"] == gone["metadata"]["name"]]
        self.assertEqual(len(mine), 2)
        self.assertEqual(mine[-1]["kubernetes"]["pod_id"], gone["metadata"]["uid"])
        s.stop()

    def test_unknown_parameter_is_an_error(self):
        kubelet = KubeletServer(self, NRI)
        conf = self.conf(kubelet, filter_extra="test_api_adapter Foo")
        r = run(["--dry-run", "-c", conf])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"unknown parameter 'test_api_adapter'", r.stderr)


class SidecarTest(SluiceTestCase):
    def test_downward_api_metadata(self):
        os.makedirs(self.path("podinfo"))
        self.write("podinfo/labels", 'app="web"\npod-template-hash="5c8d7f6b9"\n')
        self.write("podinfo/annotations", 'kubernetes.io/config.seen="2024-05-01T12:00:00Z"\ncustom/team="a \\"b\\""\n')
        log = self.write("app/app.log", cri_line(1) + cri_line(2))
        conf = self.config("""
<source>
  @type tail
  path %s/app/*.log
  tag app.*
  read_from_head true
  <parse>
    @type cri
  </parse>
</source>
<filter app.**>
  @type kubernetes_metadata
  source downward_api
  labels_file %s/podinfo/labels
  annotations_file %s/podinfo/annotations
  annotation_match ["^custom"]
  container_name app
</filter>
<match **>
  @type stdout
</match>
""" % (self.dir, self.dir, self.dir))
        s = self.start(["-c", conf], env={"POD_NAME": "web-5c8d7f6b9-q8w7e", "POD_NAMESPACE": "shop",
                                          "POD_UID": "9a6ec1a4-1111-2222-3333-444455556666",
                                          "NODE_NAME": "node-1", "POD_IP": "10.1.2.3"})
        recs = s.wait_records(2)
        k = recs[0][2]["kubernetes"]
        self.assertEqual(k, {"container_name": "app", "namespace_name": "shop", "pod_name": "web-5c8d7f6b9-q8w7e",
                             "pod_id": "9a6ec1a4-1111-2222-3333-444455556666",
                             "pod_ip": "10.1.2.3", "host": "node-1",
                             "labels": {"app": "web", "pod-template-hash": "5c8d7f6b9"},
                             "annotations": {"custom/team": 'a "b"'}})
        self.assertNotIn("docker", recs[0][2])
        s.stop()


if __name__ == "__main__":
    main()
