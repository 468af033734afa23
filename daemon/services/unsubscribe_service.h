// unsubscribe_service.h: the one way anything unsubscribes a recipient in campaignd, whoever
// asks: the public side (campaignd-web: RFC 8058 one-click POST, the unsubscribe page), a mail
// to UnsubscribeMailto=, a complaint (BounceService), an administrator (campaignd-ctl, the bus)
// and an import (storage's set-based merge records "import" with the same table). Promises the
// status change and its record in one transaction, idempotent: unsubscribing someone already
// unsubscribed changes nothing, records nothing, and says so with the record that stands.
#pragma once

#include <optional>

#include "core/clock.h"
#include "core/model.h"
#include "storage/suppression_store.h"

namespace campaignd::services {

struct UnsubscribeOutcome {
    // True: the recipient was subscribed (or bounced) and is unsubscribed now, recorded with
    // the source and campaign given. False: already unsubscribed; nothing changed.
    bool changed = false;
    // The record that stands: the new one, or the earlier one that was kept (empty for a
    // recipient unsubscribed before campaignd recorded unsubscribes).
    std::optional<UnsubscribeRecord> record;
};

class UnsubscribeService {
public:
    UnsubscribeService(storage::SuppressionStore& store, Clock clock);

    // Unsubscribes `recipient` (its id: a token names the recipient by id, and so does a
    // bounce's match), attributed to `campaign` when the request came from one (a token names
    // it; a campaign deleted since is dropped from the record, the unsubscribe still counts),
    // recorded with `how`. Joins the caller's transaction if there is one. Error(NotFound) when
    // the recipient does not exist (deleted since the mail was sent). Safe to call again, and
    // concurrently: only one call changes the status and records.
    UnsubscribeOutcome unsubscribe(Id recipient, std::optional<Id> campaign, UnsubscribeSource how);

private:
    storage::SuppressionStore& store_;
    Clock clock_;
};

}  // namespace campaignd::services
