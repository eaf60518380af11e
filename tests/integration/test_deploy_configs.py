"""The configurations shipped in deploy/ are valid for this build: the DaemonSet's and the
sidecar example's ConfigMaps pass `sluice --dry-run`."""
import glob
import os
import re

from harness import REPO, SluiceTestCase, main, run, text


def configmap_files(yaml_text):
    """The `fluent.conf: |` blocks of ConfigMaps, de-indented (no YAML library needed)."""
    out = []
    lines = yaml_text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)fluent\.conf: \|\s*$", lines[i])
        if not m:
            i += 1
            continue
        key_indent = len(m.group(1))
        block, i = [], i + 1
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > key_indent):
            block.append(lines[i])
            i += 1
        indent = min(len(l) - len(l.lstrip()) for l in block if l.strip())
        out.append("\n".join(l[indent:] for l in block) + "\n")
    return out


class DeployConfigTest(SluiceTestCase):
    def test_every_shipped_config_passes_dry_run(self):
        manifests = sorted(glob.glob(os.path.join(REPO, "deploy", "**", "*.yaml"), recursive=True))
        configs = [(m, c) for m in manifests for c in configmap_files(open(m).read())]
        self.assertGreaterEqual(len(configs), 2)
        for manifest, conf in configs:
            path = self.write("fluent.conf", conf)
            r = run(["--dry-run", "-c", path], env={"K8S_NODE_NAME": "node-1"})
            self.assertEqual(r.returncode, 0, "%s:\n%s" % (manifest, text(r.stderr)))


if __name__ == "__main__":
    main()
