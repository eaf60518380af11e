#include "k8s_meta.h"

#include "format/json.h"
#include "format/msgpack.h"

namespace sluice::k8s {

namespace {

std::string dedot(std::string key, const RenderOptions& o) {
  auto replace = [](std::string& s, char from, const std::string& to) {
    std::string r;
    r.reserve(s.size());
    for (char c : s) {
      if (c == from) r += to;
      else r += c;
    }
    s = std::move(r);
  };
  if (o.de_dot && key.find('.') != std::string::npos) replace(key, '.', o.de_dot_separator);
  if (o.de_slash && key.find('/') != std::string::npos) replace(key, '/', o.de_slash_separator);
  return key;
}

// A member of a map being rendered.
struct Member {
  std::string key;
  enum Kind { Str, Map, Owners } kind = Str;
  std::string str;
  StrMap map;
  std::vector<std::pair<std::string, std::string>> owners;
};

struct MapBuilder {
  std::vector<Member> members;
  Member* find(std::string_view k) {
    for (auto& m : members)
      if (m.key == k) return &m;
    return nullptr;
  }
  void set(std::string key, std::string value) {  // Ruby Hash#[]=: keeps an existing key's place
    if (Member* m = find(key)) {
      m->kind = Member::Str;
      m->str = std::move(value);
      return;
    }
    Member m;
    m.key = std::move(key);
    m.str = std::move(value);
    members.push_back(std::move(m));
  }
  void set_map(std::string key, StrMap map) {
    if (Member* m = find(key)) {
      m->kind = Member::Map;
      m->map = std::move(map);
      return;
    }
    Member m;
    m.key = std::move(key);
    m.kind = Member::Map;
    m.map = std::move(map);
    members.push_back(std::move(m));
  }
  void write(std::string& json, std::string& pack) const {
    json.clear();
    pack.clear();
    json += '{';
    msgpack::append_map_header(pack, static_cast<uint32_t>(members.size()));
    bool first = true;
    for (auto& m : members) {
      if (!first) json += ',';
      first = false;
      json::append_string(json, m.key);
      json += ':';
      msgpack::append_str(pack, m.key);
      switch (m.kind) {
        case Member::Str:
          json::append_string(json, m.str);
          msgpack::append_str(pack, m.str);
          break;
        case Member::Map: {
          json += '{';
          msgpack::append_map_header(pack, static_cast<uint32_t>(m.map.size()));
          bool f = true;
          for (auto& [k, v] : m.map) {
            if (!f) json += ',';
            f = false;
            json::append_string(json, k);
            json += ':';
            json::append_string(json, v);
            msgpack::append_str(pack, k);
            msgpack::append_str(pack, v);
          }
          json += '}';
          break;
        }
        case Member::Owners: {
          json += '[';
          msgpack::append_array_header(pack, static_cast<uint32_t>(m.owners.size()));
          bool f = true;
          for (auto& [kind, name] : m.owners) {
            if (!f) json += ',';
            f = false;
            json += "{\"kind\":";
            json::append_string(json, kind);
            json += ",\"name\":";
            json::append_string(json, name);
            json += '}';
            msgpack::append_map_header(pack, 2);
            msgpack::append_str(pack, "kind");
            msgpack::append_str(pack, kind);
            msgpack::append_str(pack, "name");
            msgpack::append_str(pack, name);
          }
          json += ']';
          break;
        }
      }
    }
    json += '}';
  }
};

StrMap labels_of(const StrMap& in, const RenderOptions& o) {
  StrMap out;
  out.reserve(in.size());
  for (auto& [k, v] : in) out.emplace_back(dedot(k, o), v);
  return out;
}

// Fluentd's match_annotations: for each regexp in order, every matching key (first match keeps
// its place).
StrMap annotations_of(const StrMap& in, const RenderOptions& o) {
  StrMap out;
  for (auto& re : o.annotation_match)
    for (auto& [k, v] : in)
      if (re->search(k)) {
        std::string key = dedot(k, o);
        bool dup = false;
        for (auto& [ok, ov] : out)
          if (ok == key) {
            ov = v;
            dup = true;
          }
        if (!dup) out.emplace_back(std::move(key), v);
      }
  return out;
}

// The pod part (Fluentd's parse_pod_metadata merged into the record's map), then the namespace.
void add_pod(MapBuilder& kube, const Pod& pod, const Namespace* ns, const RenderOptions& o) {
  kube.set("namespace_name", pod.ns);
  kube.set("pod_id", pod.uid);
  kube.set("pod_name", pod.name);
  if (!pod.pod_ip.empty()) kube.set("pod_ip", pod.pod_ip);
  if (!pod.host.empty()) kube.set("host", pod.host);
  if (o.include_ownerrefs) {
    Member m;
    m.key = "ownerrefs";
    m.kind = Member::Owners;
    m.owners = pod.owners;
    kube.members.push_back(std::move(m));
  }
  if (!o.skip_labels && !o.skip_pod_labels && !pod.labels.empty()) kube.set_map("labels", labels_of(pod.labels, o));
  StrMap ann = annotations_of(pod.annotations, o);
  if (!ann.empty()) kube.set_map("annotations", std::move(ann));
  if (!o.skip_master_url && !o.master_url.empty()) kube.set("master_url", o.master_url);
  if (ns && !o.skip_namespace_metadata) {
    if (!ns->uid.empty()) kube.set("namespace_id", ns->uid);
    if (!o.skip_labels && !o.skip_namespace_labels && !ns->labels.empty())
      kube.set_map("namespace_labels", labels_of(ns->labels, o));
    StrMap nann = annotations_of(ns->annotations, o);
    if (!nann.empty()) kube.set_map("namespace_annotations", std::move(nann));
  }
}

}  // namespace

void render(const TagInfo& tag, const Pod* pod, const Namespace* ns, const RenderOptions& o, Rendered& out) {
  MapBuilder kube;
  kube.set("container_name", tag.container);
  kube.set("namespace_name", tag.ns);
  kube.set("pod_name", tag.pod);
  std::string container_id = tag.docker_id;
  out.enriched = pod != nullptr;
  if (pod) {
    const ContainerStatus* c = pod->container(tag.container);
    if (c && !o.skip_container_metadata) {
      if (!c->image.empty()) kube.set("container_image", c->image);
      if (!c->image_id.empty()) kube.set("container_image_id", c->image_id);
      if (!c->container_id.empty()) container_id = c->container_id;
    }
    add_pod(kube, *pod, ns, o);
  } else if (!tag.pod_uid.empty()) {
    kube.set("pod_id", tag.pod_uid);
  }
  kube.write(out.kube_json, out.kube_pack);
  out.has_docker = !container_id.empty();
  if (out.has_docker) {
    MapBuilder docker;
    docker.set("container_id", container_id);
    docker.write(out.docker_json, out.docker_pack);
  } else {
    out.docker_json.clear();
    out.docker_pack.clear();
  }
}

void render_kubernetes(const Pod& pod, const ContainerStatus* c, const Namespace* ns, const RenderOptions& o,
                       std::string& json, std::string& pack) {
  MapBuilder kube;
  kube.set("container_name", c ? c->name : std::string());
  kube.set("namespace_name", pod.ns);
  kube.set("pod_name", pod.name);
  if (c && !o.skip_container_metadata) {
    if (!c->image.empty()) kube.set("container_image", c->image);
    if (!c->image_id.empty()) kube.set("container_image_id", c->image_id);
  }
  add_pod(kube, pod, ns, o);
  kube.write(json, pack);
}

}  // namespace sluice::k8s
