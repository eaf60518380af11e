#include "k8s_meta.h"

#include <oniguruma.h>
#include <simdjson.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "format/json.h"
#include "format/msgpack.h"

namespace sluice::k8s {

using namespace simdjson;

// ---------------------------------------------------------------------------------------------
// Parsing

namespace {

std::string str_of(ondemand::value v) {
  if (v.type() != ondemand::json_type::string) return {};
  return std::string(std::string_view(v.get_string()));
}

int64_t int_of(ondemand::value v) {
  if (v.type() != ondemand::json_type::number) return 0;
  return v.get_int64();
}

void read_map(ondemand::value v, StrMap& out) {
  if (v.type() != ondemand::json_type::object) return;
  for (auto field : v.get_object()) {
    std::string key(std::string_view(field.unescaped_key()));
    out.emplace_back(std::move(key), str_of(field.value()));
  }
}

void read_terminated(ondemand::value v, Terminated& t) {
  if (v.type() != ondemand::json_type::object) return;
  for (auto state : v.get_object()) {
    std::string_view k = state.unescaped_key();
    if (k != "terminated") continue;
    ondemand::value tv = state.value();
    if (tv.type() != ondemand::json_type::object) continue;
    t.present = true;
    for (auto f : tv.get_object()) {
      std::string_view key = f.unescaped_key();
      ondemand::value val = f.value();
      if (key == "exitCode") t.exit_code = int_of(val);
      else if (key == "signal") { t.has_signal = true; t.signal = int_of(val); }
      else if (key == "reason") t.reason = str_of(val);
      else if (key == "message") t.message = str_of(val);
      else if (key == "startedAt") t.started_at = str_of(val);
      else if (key == "finishedAt") t.finished_at = str_of(val);
      else if (key == "containerID") t.container_id = str_of(val);
    }
  }
}

void read_statuses(ondemand::value v, std::vector<ContainerStatus>& out, bool init) {
  if (v.type() != ondemand::json_type::array) return;
  for (ondemand::value cv : v.get_array()) {
    if (cv.type() != ondemand::json_type::object) continue;
    ContainerStatus c;
    c.init = init;
    for (auto f : cv.get_object()) {
      std::string_view key = f.unescaped_key();
      ondemand::value val = f.value();
      if (key == "name") c.name = str_of(val);
      else if (key == "image") c.image = str_of(val);
      else if (key == "imageID") c.image_id = str_of(val);
      else if (key == "containerID") c.container_id = std::string(strip_runtime(str_of(val)));
      else if (key == "restartCount") c.restart_count = int_of(val);
      else if (key == "state") read_terminated(val, c.terminated);
      else if (key == "lastState") read_terminated(val, c.last_terminated);
    }
    out.push_back(std::move(c));
  }
}

void read_spec(ondemand::value v, Pod& p) {
  if (v.type() != ondemand::json_type::object) return;
  for (auto f : v.get_object()) {
    std::string_view key = f.unescaped_key();
    ondemand::value val = f.value();
    if (key == "nodeName") {
      p.host = str_of(val);
    } else if ((key == "containers" || key == "initContainers") &&
               val.type() == ondemand::json_type::array) {
      for (ondemand::value cv : val.get_array()) {
        if (cv.type() != ondemand::json_type::object) continue;
        std::string name, path = "/dev/termination-log";
        for (auto cf : cv.get_object()) {
          std::string_view ck = cf.unescaped_key();
          if (ck == "name") name = str_of(cf.value());
          else if (ck == "terminationMessagePath") path = str_of(cf.value());
        }
        p.termination_paths.emplace_back(std::move(name), std::move(path));
      }
    }
  }
}

void read_pod(ondemand::object obj, Pod& p) {
  std::vector<ContainerStatus> main, init, eph;
  for (auto f : obj) {
    std::string_view key = f.unescaped_key();
    ondemand::value val = f.value();
    if (key == "metadata") {
      if (val.type() != ondemand::json_type::object) continue;
      for (auto m : val.get_object()) {
        std::string_view mk = m.unescaped_key();
        ondemand::value mv = m.value();
        if (mk == "name") p.name = str_of(mv);
        else if (mk == "namespace") p.ns = str_of(mv);
        else if (mk == "uid") p.uid = str_of(mv);
        else if (mk == "labels") read_map(mv, p.labels);
        else if (mk == "annotations") read_map(mv, p.annotations);
        else if (mk == "ownerReferences" && mv.type() == ondemand::json_type::array) {
          for (ondemand::value o : mv.get_array()) {
            if (o.type() != ondemand::json_type::object) continue;
            std::string kind, name;
            for (auto of : o.get_object()) {
              std::string_view ok = of.unescaped_key();
              if (ok == "kind") kind = str_of(of.value());
              else if (ok == "name") name = str_of(of.value());
            }
            p.owners.emplace_back(std::move(kind), std::move(name));
          }
        }
      }
    } else if (key == "spec") {
      read_spec(val, p);
    } else if (key == "status") {
      if (val.type() != ondemand::json_type::object) continue;
      for (auto s : val.get_object()) {
        std::string_view sk = s.unescaped_key();
        ondemand::value sv = s.value();
        if (sk == "podIP") p.pod_ip = str_of(sv);
        else if (sk == "containerStatuses") read_statuses(sv, main, false);
        else if (sk == "initContainerStatuses") read_statuses(sv, init, true);
        else if (sk == "ephemeralContainerStatuses") read_statuses(sv, eph, false);
      }
    }
  }
  p.containers = std::move(main);
  for (auto& c : init) p.containers.push_back(std::move(c));
  for (auto& c : eph) p.containers.push_back(std::move(c));
}

template <typename T, typename F>
bool parse_list(std::string_view json, std::vector<T>& out, std::string& error, const char* list_kind,
                const char* item_kind, F read_item) {
  out.clear();
  thread_local ondemand::parser parser;
  try {
    padded_string padded(json);
    ondemand::document doc = parser.iterate(padded);
    ondemand::object root = doc.get_object();
    std::string kind;
    bool have_items = false;
    for (auto f : root) {
      std::string_view key = f.unescaped_key();
      ondemand::value val = f.value();
      if (key == "kind") {
        kind = str_of(val);
      } else if (key == "items") {
        if (val.type() != ondemand::json_type::array) {
          if (val.type() == ondemand::json_type::null) { have_items = true; continue; }
          throw std::runtime_error("'items' is not an array");
        }
        have_items = true;
        for (ondemand::value item : val.get_array()) {
          T t;
          read_item(item.get_object(), t);
          out.push_back(std::move(t));
        }
      } else if (key == "metadata" || key == "spec" || key == "status") {
        // A single object (kind Pod / Namespace) rather than a list: parse again below.
      }
    }
    if (!have_items) {
      if (kind == item_kind) {
        ondemand::document again = parser.iterate(padded);
        T t;
        read_item(again.get_object(), t);
        out.push_back(std::move(t));
        return true;
      }
      throw std::runtime_error(std::string("not a ") + list_kind + " (no 'items')");
    }
    return true;
  } catch (const simdjson_error& e) {
    out.clear();
    error = std::string("invalid JSON: ") + error_message(e.error());
  } catch (const std::exception& e) {
    out.clear();
    error = e.what();
  }
  return false;
}

}  // namespace

bool parse_pod_list(std::string_view json, std::vector<Pod>& out, std::string& error) {
  return parse_list(json, out, error, "PodList", "Pod", [](ondemand::object o, Pod& p) { read_pod(o, p); });
}

bool parse_namespace_list(std::string_view json, std::vector<Namespace>& out, std::string& error) {
  return parse_list(json, out, error, "NamespaceList", "Namespace", [](ondemand::object o, Namespace& n) {
    for (auto f : o) {
      std::string_view key = f.unescaped_key();
      if (key != "metadata") continue;
      ondemand::value mv = f.value();
      if (mv.type() != ondemand::json_type::object) continue;
      for (auto m : mv.get_object()) {
        std::string_view mk = m.unescaped_key();
        if (mk == "name") n.name = str_of(m.value());
        else if (mk == "uid") n.uid = str_of(m.value());
        else if (mk == "labels") read_map(m.value(), n.labels);
        else if (mk == "annotations") read_map(m.value(), n.annotations);
      }
    }
  });
}

std::string_view strip_runtime(std::string_view id) {
  size_t p = id.find("://");
  if (p == std::string_view::npos || p == 0) return id;
  for (size_t i = 0; i < p; ++i) {
    char c = id[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return id;
  }
  return id.substr(p + 3);
}

const ContainerStatus* Pod::container(std::string_view n) const {
  for (auto& c : containers)
    if (c.name == n) return &c;
  return nullptr;
}

const ContainerStatus* Pod::container_by_id(std::string_view id) const {
  for (auto& c : containers)
    if (!id.empty() && c.container_id == id) return &c;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Regexps

namespace {
void onig_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encs[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encs, 1);
  });
}
}  // namespace

Regex::Regex(const std::string& pattern, bool ignore_case) {
  onig_init_once();
  regex_t* re = nullptr;
  OnigErrorInfo einfo;
  auto* p = reinterpret_cast<const UChar*>(pattern.data());
  int r = onig_new(&re, p, p + pattern.size(), ignore_case ? ONIG_OPTION_IGNORECASE : ONIG_OPTION_NONE,
                   ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &einfo);
  if (r != ONIG_NORMAL) {
    UChar buf[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(buf, r, &einfo);
    throw std::runtime_error("invalid regexp /" + pattern + "/: " + reinterpret_cast<char*>(buf));
  }
  re_ = re;
  region_ = onig_region_new();
}

Regex::~Regex() {
  if (region_) onig_region_free(static_cast<OnigRegion*>(region_), 1);
  if (re_) onig_free(static_cast<regex_t*>(re_));
}

bool Regex::search(std::string_view text) const {
  auto* s = reinterpret_cast<const UChar*>(text.data());
  auto* e = s + text.size();
  return onig_search(static_cast<regex_t*>(re_), s, e, s, e, static_cast<OnigRegion*>(region_),
                     ONIG_OPTION_NONE) >= 0;
}

namespace {
struct NameCtx {
  std::string_view text;
  OnigRegion* region;
  std::vector<std::pair<std::string, std::string>>* out;
};
int on_name(const UChar* name, const UChar* name_end, int n, int* groups, regex_t*, void* arg) {
  auto* ctx = static_cast<NameCtx*>(arg);
  for (int i = n - 1; i >= 0; --i) {  // the last group with that name that matched
    int g = groups[i];
    if (ctx->region->beg[g] >= 0) {
      ctx->out->emplace_back(std::string(reinterpret_cast<const char*>(name), name_end - name),
                             std::string(ctx->text.substr(ctx->region->beg[g],
                                                          ctx->region->end[g] - ctx->region->beg[g])));
      break;
    }
  }
  return 0;
}
}  // namespace

bool Regex::search(std::string_view text, std::vector<std::pair<std::string, std::string>>& groups) const {
  groups.clear();
  if (!search(text)) return false;
  NameCtx ctx{text, static_cast<OnigRegion*>(region_), &groups};
  onig_foreach_name(static_cast<regex_t*>(re_), on_name, &ctx);
  return true;
}

const char* const kDefaultTagRegexp =
    "((var\\.log\\.pods)\\.(?<namespace>[^_]+)_(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<pod_uuid>[a-z0-9-]*)\\.(?<container_name>.+)\\..*\\.log$"
    "|"
    "(var\\.log\\.containers)\\.(?<pod_name>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)_(?<namespace>[^_]+)_(?<container_name>.+)-(?<docker_id>[a-z0-9]{64})\\.log$)";

TagMatcher::TagMatcher(const std::string& pattern) : re_(pattern) {}

bool TagMatcher::match(std::string_view tag, TagInfo& out) const {
  std::vector<std::pair<std::string, std::string>> groups;
  if (!re_.search(tag, groups)) return false;
  out = TagInfo{};
  for (auto& [k, v] : groups) {
    if (k == "namespace") out.ns = v;
    else if (k == "pod_name") out.pod = v;
    else if (k == "container_name") out.container = v;
    else if (k == "docker_id") out.docker_id = v;
    else if (k == "pod_uuid") out.pod_uid = v;
  }
  return !out.pod.empty() || !out.ns.empty();
}

// ---------------------------------------------------------------------------------------------
// Downward API

namespace {
// Go's strconv.Quote output back to bytes.
bool unquote_go(std::string_view s, std::string& out) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  s = s.substr(1, s.size() - 2);
  out.clear();
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto utf8 = [&](uint32_t cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else { out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') { out += c; continue; }
    if (++i >= s.size()) return false;
    char e = s[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x': {
        if (i + 2 >= s.size()) return false;
        int a = hex(s[i + 1]), b = hex(s[i + 2]);
        if (a < 0 || b < 0) return false;
        out += static_cast<char>(a * 16 + b);
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        size_t n = e == 'u' ? 4 : 8;
        if (i + n >= s.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 1; k <= n; ++k) {
          int h = hex(s[i + k]);
          if (h < 0) return false;
          cp = cp * 16 + h;
        }
        utf8(cp);
        i += n;
        break;
      }
      default:
        if (e >= '0' && e <= '7' && i + 2 < s.size()) {  // \ooo
          out += static_cast<char>((e - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0'));
          i += 2;
        } else {
          return false;
        }
    }
  }
  return true;
}
}  // namespace

StrMap parse_downward_api(std::string_view text) {
  StrMap out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string value;
    if (!unquote_go(line.substr(eq + 1), value)) continue;
    out.emplace_back(std::string(line.substr(0, eq)), std::move(value));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

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

// ---------------------------------------------------------------------------------------------
// PodStore

void PodStore::update(std::vector<Pod> pods, double now) {
  for (auto& p : pods) {
    if (p.uid.empty()) p.uid = p.ns + "/" + p.name;  // static pods without uid: keep them apart
    std::string uid = p.uid;
    last_seen_[uid] = now;
    pods_[uid] = std::make_shared<const Pod>(std::move(p));
  }
  // Forget pods gone longer than gone_ttl, and the oldest gone ones beyond max_gone.
  std::vector<std::pair<double, std::string>> gone;
  for (auto& [uid, seen] : last_seen_)
    if (seen < now) gone.emplace_back(seen, uid);
  std::sort(gone.begin(), gone.end());
  size_t excess = gone.size() > max_gone ? gone.size() - max_gone : 0;
  for (size_t i = 0; i < gone.size(); ++i) {
    if (i < excess || gone[i].first < now - gone_ttl) {
      pods_.erase(gone[i].second);
      last_seen_.erase(gone[i].second);
    }
  }
  reindex();
  ++generation_;
}

void PodStore::reindex() {
  by_container_.clear();
  by_name_.clear();
  // Newest-seen pod wins a name (a StatefulSet pod recreated under the same name).
  std::vector<std::pair<double, const Pod*>> order;
  for (auto& [uid, p] : pods_) order.emplace_back(last_seen_[uid], p.get());
  std::sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (auto& [seen, p] : order) {
    by_name_[p->ns + "/" + p->name] = p->uid;
    for (auto& c : p->containers)
      if (!c.container_id.empty()) by_container_[c.container_id] = p->uid;
  }
}

void PodStore::set_namespaces(std::vector<Namespace> list) {
  for (auto& n : list) namespaces_[n.name] = std::move(n);  // deleted namespaces keep last-seen
  ++generation_;
}

const Pod* PodStore::find(const TagInfo& tag) const {
  if (!tag.docker_id.empty()) {
    auto it = by_container_.find(tag.docker_id);
    if (it != by_container_.end()) {
      auto p = pods_.find(it->second);
      if (p != pods_.end()) return p->second.get();
    }
  }
  if (!tag.pod_uid.empty()) {
    auto p = pods_.find(tag.pod_uid);
    if (p != pods_.end()) return p->second.get();
  }
  return find_name(tag.ns, tag.pod);
}

const Pod* PodStore::find_name(std::string_view ns, std::string_view name) const {
  std::string key;
  key.reserve(ns.size() + name.size() + 1);
  key.append(ns).append("/").append(name);
  auto it = by_name_.find(key);
  if (it == by_name_.end()) return nullptr;
  auto p = pods_.find(it->second);
  return p == pods_.end() ? nullptr : p->second.get();
}

const Namespace* PodStore::ns(std::string_view name) const {
  auto it = namespaces_.find(std::string(name));
  return it == namespaces_.end() ? nullptr : &it->second;
}

}  // namespace sluice::k8s
