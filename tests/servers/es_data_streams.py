"""Data streams for es_server.py, as Elasticsearch 8 and OpenSearch 2 answer them: the index
template, ILM policy and data stream APIs (GET and PUT), and what a bulk request into a stream
must hold (create operations, @timestamp). Error bodies are the servers' own."""
import datetime
import fnmatch
import json


def not_found(kind, name):
    if kind == "_data_stream":
        reason, etype = "no such index [%s]" % name, "index_not_found_exception"
    elif kind == "_index_template":
        reason, etype = "index template matching [%s] not found" % name, "resource_not_found_exception"
    else:
        reason, etype = "Lifecycle policy not found: %s" % name, "resource_not_found_exception"
    err = {"type": etype, "reason": reason}
    if etype == "index_not_found_exception":
        err.update({"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name})
    return 404, {"error": dict(err, root_cause=[dict(err)]), "status": 404}


def bad_request(etype, reason):
    err = {"type": etype, "reason": reason}
    return 400, {"error": dict(err, root_cause=[dict(err)]), "status": 400}


class DataStreams:
    """State under the server's lock: templates, policies and streams by name, and every
    management request in order (method, path, body) for tests to read."""

    def __init__(self, opensearch):
        self.opensearch = opensearch
        self.templates = {}
        self.policies = {}
        self.streams = {}  # name -> template name
        self.calls = []

    def handles(self, path):
        return path.split("/")[1] in ("_data_stream", "_index_template", "_ilm") if path.count("/") >= 2 else False

    def template_for(self, name):
        for tname, t in sorted(self.templates.items(), key=lambda kv: -kv[1].get("priority", 0)):
            if "data_stream" in t and any(fnmatch.fnmatchcase(name, p) for p in t.get("index_patterns", [])):
                return tname
        return None

    def backing_index(self, name):
        return ".ds-%s-%s-000001" % (name, datetime.date.today().strftime("%Y.%m.%d"))

    def request(self, method, path, body):
        """(status, JSON answer) of a management request."""
        path = path.split("?")[0]
        self.calls.append({"method": method, "path": path, "body": body.decode() if body else ""})
        parts = path.strip("/").split("/")
        if parts[0] == "_ilm":
            if self.opensearch or len(parts) != 3 or parts[1] != "policy":
                return 404, {"error": "no handler found for uri [%s] and method [%s]" % (path, method)}
            kind, name = "_ilm", parts[2]
        elif len(parts) == 2:
            kind, name = parts
        else:
            return 404, {"error": "no handler found for uri [%s] and method [%s]" % (path, method)}
        if method == "GET":
            return self.get(kind, name)
        if method == "PUT":
            return self.put(kind, name, body)
        return 405, {"error": "Incorrect HTTP method for uri [%s] and method [%s]" % (path, method), "status": 405}

    def get(self, kind, name):
        if kind == "_data_stream":
            if name not in self.streams:
                return not_found(kind, name)
            return 200, {"data_streams": [{
                "name": name, "timestamp_field": {"name": "@timestamp"},
                "indices": [{"index_name": self.backing_index(name), "index_uuid": "x"}],
                "generation": 1, "status": "GREEN", "template": self.streams[name],
                "ilm_policy": self.templates.get(self.streams[name], {}).get("template", {})
                .get("settings", {}).get("index.lifecycle.name")}]}
        if kind == "_index_template":
            if name not in self.templates:
                return not_found(kind, name)
            return 200, {"index_templates": [{"name": name, "index_template": self.templates[name]}]}
        if name not in self.policies:
            return not_found(kind, name)
        return 200, {name: {"version": 1, "modified_date": "2024-05-01T00:00:00.000Z",
                            "policy": self.policies[name]["policy"]}}

    def put(self, kind, name, body):
        if kind == "_data_stream":
            if name in self.streams:
                return bad_request("resource_already_exists_exception", "data_stream [%s] already exists" % name)
            template = self.template_for(name)
            if not template:
                return bad_request("illegal_argument_exception",
                                   "no matching index template found for data stream [%s]" % name)
            self.streams[name] = template
            return 200, {"acknowledged": True}
        try:
            doc = json.loads(body or b"null")
        except ValueError:
            return bad_request("parse_exception", "request body is required")
        if not isinstance(doc, dict):
            return bad_request("parse_exception", "request body is required")
        if kind == "_index_template":
            if not isinstance(doc.get("index_patterns"), list):
                return bad_request("action_request_validation_exception",
                                   "Validation Failed: 1: index patterns are missing;")
            self.templates[name] = doc
            return 200, {"acknowledged": True}
        if not isinstance(doc.get("policy"), dict):
            return bad_request("x_content_parse_exception", "[1:2] [put_lifecycle_request] policy is required")
        self.policies[name] = doc
        return 200, {"acknowledged": True}

    def bulk_item(self, op, index, source):
        """For a bulk item into `index`: None when `index` is no data stream (and no stream
        template matches it), else (stored under, error or None). A matching template creates the
        stream, as a first write does."""
        if index not in self.streams:
            template = self.template_for(index)
            if not template:
                return None
            self.streams[index] = template
        if op != "create":
            return index, {"type": "illegal_argument_exception",
                           "reason": "only write ops with an op_type of create are allowed in data streams"}
        if source is None or "@timestamp" not in source:
            etype = "mapper_parsing_exception" if self.opensearch else "document_parsing_exception"
            return index, {"type": etype,
                           "reason": "[1:2] failed to parse: data stream timestamp field [@timestamp] is missing"}
        return index, None
