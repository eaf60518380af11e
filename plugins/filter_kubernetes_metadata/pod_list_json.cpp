#include "k8s_meta.h"

#include <simdjson.h>

#include <cctype>
#include <stdexcept>

namespace sluice::k8s {

using namespace simdjson;

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

}  // namespace sluice::k8s
