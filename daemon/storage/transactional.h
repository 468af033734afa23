// transactional.h: the one storage role every other role that writes in a caller's
// transaction extends (virtually, so a Store has exactly one). It promises all-or-nothing over
// everything done through any role of the same store inside fn; it says nothing about other
// stores: a service given several roles must be given views of one store (a Store is every
// role) for its transactions to span them.
#pragma once

#include <functional>

namespace campaignd::storage {

class Transactional {
public:
    virtual ~Transactional() = default;

    // Runs fn in one transaction: committed when fn returns, rolled back when it throws (the
    // exception propagates). A call inside fn joins the outer transaction.
    virtual void transaction(const std::function<void()>& fn) = 0;
};

}  // namespace campaignd::storage
