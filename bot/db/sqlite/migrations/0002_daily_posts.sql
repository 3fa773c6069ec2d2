-- 0002: daily quote posts.

-- One schedule per server. The zone is stored, never an offset, so daylight saving moves
-- nothing. `next_local_date` is the local day of the pending post; `due_at` (unix seconds)
-- is when the scheduler looks at it next: that day's posting time, or a claim's lease expiry.
CREATE TABLE daily_schedules (
    guild_id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    post_time TEXT NOT NULL,
    timezone TEXT NOT NULL,
    next_local_date TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    next_quote_id INTEGER REFERENCES quotes (id) ON DELETE SET NULL,
    paused_reason TEXT,
    last_error TEXT,
    last_error_at INTEGER,
    updated_by INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX daily_schedules_by_due ON daily_schedules (due_at) WHERE paused_reason IS NULL;
CREATE INDEX daily_schedules_by_channel ON daily_schedules (channel_id);

-- At most one row per server per local day: the claim taken before sending. Its primary key
-- is what makes a second post on the same day impossible, whatever else goes wrong.
CREATE TABLE daily_posts (
    guild_id INTEGER NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('claimed', 'sent', 'skipped', 'missed', 'failed')),
    quote_id INTEGER REFERENCES quotes (id) ON DELETE SET NULL,
    channel_id INTEGER,
    nonce TEXT NOT NULL,
    claimed_by TEXT,
    lease_until INTEGER,
    message_id INTEGER,
    detail TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, local_date)
) WITHOUT ROWID;
CREATE INDEX daily_posts_sent ON daily_posts (guild_id, status, local_date);

-- Quotes already posted in the server's current cycle; cleared when every quote has had
-- its turn.
CREATE TABLE daily_cycle (
    guild_id INTEGER NOT NULL,
    quote_id INTEGER NOT NULL REFERENCES quotes (id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, quote_id)
) WITHOUT ROWID;
