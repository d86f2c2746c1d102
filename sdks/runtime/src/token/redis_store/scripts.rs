//! The commands of the protocol. Scripts run with plain `EVAL` (short, sent
//! whole): no script cache to miss on a promoted replica (`NOSCRIPT`), no
//! `SCRIPT LOAD` that must reach every primary. Every script touches the
//! token and lock keys of one principal, which share a hash tag: one slot.

/// `SET lock owner NX PX lease`.
pub(super) fn try_lock(lock_key: &str, owner: &str, lease_ms: u64) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(lock_key)
        .arg(owner)
        .arg("NX")
        .arg("PX")
        .arg(lease_ms.max(1));
    cmd
}

/// `GET token`.
pub(super) fn get(token_key: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("GET");
    cmd.arg(token_key);
    cmd
}

/// Deletes the lock only if it still belongs to the caller. 1: released.
const RELEASE: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

pub(super) fn release(lock_key: &str, owner: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(RELEASE).arg(1).arg(lock_key).arg(owner);
    cmd
}

/// Renews the lease only if the lock still belongs to the caller.
/// 1: extended, 0: lost.
const EXTEND: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0
"#;

pub(super) fn extend(lock_key: &str, owner: &str, lease_ms: u64) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(EXTEND)
        .arg(1)
        .arg(lock_key)
        .arg(owner)
        .arg(lease_ms.max(1));
    cmd
}

/// Checks that a stored value, if any, starts with one of the prefixes
/// `ARGV[first..]` (a key id this process reads): another one is a value
/// this process cannot decrypt and must not overwrite.
const READABLE: &str = r#"
local function readable(first)
    local cur = redis.call("GET", KEYS[1])
    if not cur then return true end
    for i = first, #ARGV do
        if string.sub(cur, 1, string.len(ARGV[i])) == ARGV[i] then return true end
    end
    return false
end
"#;

/// The fenced write: the record is written, and the lock released, only
/// while the caller still owns the lock. KEYS: token, lock. ARGV: owner,
/// value, ttl ms, readable prefixes… 1: written, 0: the lock was lost
/// (nothing written), 2: an unreadable value is stored (left, lock
/// released).
const WRITE_FENCED: &str = r#"
if redis.call("GET", KEYS[2]) ~= ARGV[1] then return 0 end
if not readable(4) then
    redis.call("DEL", KEYS[2])
    return 2
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
redis.call("DEL", KEYS[2])
return 1
"#;

pub(super) fn write_fenced(
    token_key: &str,
    lock_key: &str,
    owner: &str,
    value: &str,
    ttl_ms: i64,
    prefixes: &[String],
) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(format!("{READABLE}{WRITE_FENCED}"))
        .arg(2)
        .arg(token_key)
        .arg(lock_key)
        .arg(owner)
        .arg(value)
        .arg(ttl_ms.max(1));
    for p in prefixes {
        cmd.arg(p);
    }
    cmd
}

/// A write without the lock (a waiter that fetched alone publishes its
/// token), unless an unreadable value is stored. KEYS: token. ARGV: value,
/// ttl ms, readable prefixes… 1: written, 2: left alone.
const PUBLISH: &str = r#"
if not readable(3) then return 2 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
"#;

pub(super) fn publish(
    token_key: &str,
    value: &str,
    ttl_ms: i64,
    prefixes: &[String],
) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(format!("{READABLE}{PUBLISH}"))
        .arg(1)
        .arg(token_key)
        .arg(value)
        .arg(ttl_ms.max(1));
    for p in prefixes {
        cmd.arg(p);
    }
    cmd
}
