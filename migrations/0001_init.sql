-- Tenants, ballots and the register of members: the minimum that the demo
-- ballot and the public ballot list need. Later migrations extend them.

CREATE TABLE unions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Credentials go to personal contacts only (e-ballot Code; statutory.md
    -- §5 C17): register imports flag these employer channels.
    employer_email_domains text[] NOT NULL DEFAULT '{}',
    work_phone_numbers     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A ballot is one statutory ballot (or one set of separate workplace ballots
-- under TULRCA s.228, held as ballot styles of one election).
CREATE TABLE ballots (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    union_id     bigint NOT NULL REFERENCES unions(id),
    election_id  text NOT NULL UNIQUE CHECK (election_id ~ '^[a-z0-9-]{1,64}$'),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    kind         text NOT NULL CHECK (kind IN ('industrial_action', 'union_election', 'political_fund', 'recognition', 'other')),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed', 'published')),
    opens_at     timestamptz,
    closes_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at)
);
CREATE INDEX ballots_union ON ballots (union_id);

-- Members of a union. Personal data lives here only: never in the ledger,
-- never in logs.
CREATE TABLE members (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    union_id       bigint NOT NULL REFERENCES unions(id),
    member_number  text NOT NULL CHECK (length(member_number) BETWEEN 1 AND 64),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    mobile         text CHECK (mobile ~ '^\+[1-9][0-9]{6,14}$'),
    email          text CHECK (length(email) <= 254),
    workplace      text NOT NULL DEFAULT '' CHECK (length(workplace) <= 200),
    branch         text NOT NULL DEFAULT '' CHECK (length(branch) <= 200),
    employer       text NOT NULL DEFAULT '' CHECK (length(employer) <= 200),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (union_id, member_number)
);

-- Register of members entitled to vote in a ballot (TULRCA s.227), frozen
-- when the ballot opens. style is the ballot style: the member's workplace
-- ballot under s.228, or 'all' for an aggregated ballot (s.228A).
-- paper_number is the voting paper's number from one series of consecutive
-- whole numbers (s.229(1A)(c)), assigned when the register is frozen.
CREATE TABLE register_entries (
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    member_id     bigint NOT NULL REFERENCES members(id),
    style         text NOT NULL CHECK (style ~ '^[a-z0-9-]{1,64}$'),
    workplace     text NOT NULL DEFAULT '' CHECK (length(workplace) <= 200),
    paper_number  integer CHECK (paper_number > 0),
    PRIMARY KEY (ballot_id, member_id),
    UNIQUE (ballot_id, paper_number)
);
CREATE INDEX register_entries_member ON register_entries (member_id);
