#include "common/template/syntax_tree.h"

namespace webhook::tmpl {
namespace {

// Moves the subtrees a node owns onto `pending`, so that the node's own destruction does
// not recurse into them.
void detach_children(Node& node, std::vector<NodePtr>& pending) {
  for (auto& c : node.children) {
    if (c) pending.push_back(std::move(c));
  }
  node.children.clear();
  for (auto& loop : node.loops) {
    if (loop.iterable) pending.push_back(std::move(loop.iterable));
    for (auto& c : loop.conditions) {
      if (c) pending.push_back(std::move(c));
    }
    loop.conditions.clear();
  }
  if (node.parts) {
    for (auto& part : *node.parts) {
      if (part.expr) pending.push_back(std::move(part.expr));
    }
  }
}

}  // namespace

Node::~Node() {
  std::vector<NodePtr> pending;
  detach_children(*this, pending);
  while (!pending.empty()) {
    NodePtr n = std::move(pending.back());
    pending.pop_back();
    detach_children(*n, pending);
    // n is destroyed here with no children left, so its destructor does not recurse.
  }
}

}  // namespace webhook::tmpl
