#include "k8s_meta.h"

#include <algorithm>

namespace sluice::k8s {

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
