-- Nonces (docs/storage.md, "Nonces"): the random strings of Web SDK signatures
-- (docs/web-sdk.md) in use, each until it expires, so that a replay is refused.

CREATE TABLE nonces (
    app     TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    expires INTEGER NOT NULL,  -- epoch ms its use ends: from then on it may be claimed again
    PRIMARY KEY (app, nonce)
) WITHOUT ROWID;
-- what the sweep (forget_nonces) forgets: the uses that expired before a time
CREATE INDEX nonces_by_expires ON nonces (expires);
