//! Retry policies: when (if ever) to try a failed request again.

use std::time::Duration;

use crate::error::ConfigError;
use crate::rng::Rng;

/// How failed requests are retried. Attempts count from 1 (the first retry).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RetryPolicy {
    /// Never retry.
    None,
    /// Wait the same `delay` before each of at most `max_retries` retries.
    Linear {
        /// The wait before each retry (at least 2 s against the real service).
        delay: Duration,
        /// How many retries before giving up.
        max_retries: u32,
    },
    /// Wait `min_delay · 2^(attempt−1)`, capped at `max_delay`, before each of at most
    /// `max_retries` retries.
    Exponential {
        /// The first wait.
        min_delay: Duration,
        /// The longest wait.
        max_delay: Duration,
        /// How many retries before giving up.
        max_retries: u32,
    },
}

/// The most retries a policy may ask for.
pub const MAX_RETRIES: u32 = 10_000;

/// The longest wait a policy may ask for (the same cap as a service's `Retry-After`).
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

impl RetryPolicy {
    /// The default for the subscribe loop: exponential, 2 s to 150 s, 6 retries.
    pub const fn default_exponential() -> RetryPolicy {
        RetryPolicy::Exponential {
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(150),
            max_retries: 6,
        }
    }

    /// Linear, 2 s between at most 10 retries.
    pub const fn default_linear() -> RetryPolicy {
        RetryPolicy::Linear {
            delay: Duration::from_secs(2),
            max_retries: 10,
        }
    }

    /// Checks the numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |reason| Err(ConfigError::InvalidRetryPolicy { reason });
        match *self {
            RetryPolicy::None => Ok(()),
            RetryPolicy::Linear { max_retries, .. }
            | RetryPolicy::Exponential { max_retries, .. }
                if max_retries > MAX_RETRIES =>
            {
                bad("max_retries above 10000")
            }
            RetryPolicy::Linear { delay, .. } if delay > MAX_DELAY => bad("delay above one hour"),
            RetryPolicy::Exponential { max_delay, .. } if max_delay > MAX_DELAY => {
                bad("max_delay above one hour")
            }
            RetryPolicy::Exponential {
                min_delay,
                max_delay,
                ..
            } if min_delay > max_delay => bad("min_delay is above max_delay"),
            RetryPolicy::Exponential { min_delay, .. } if min_delay.is_zero() => {
                bad("min_delay is zero")
            }
            _ => Ok(()),
        }
    }

    /// The wait before retry number `attempt` (from 1), or `None` to give up. A `Retry-After`
    /// from the service replaces the policy's delay. Jitter below one second is added from `rng`.
    pub fn delay(&self, attempt: u32, retry_after: Option<u64>, rng: &mut Rng) -> Option<Duration> {
        let base = match *self {
            RetryPolicy::None => return None,
            RetryPolicy::Linear { max_retries, .. }
            | RetryPolicy::Exponential { max_retries, .. }
                if attempt == 0 || attempt > max_retries =>
            {
                return None;
            }
            RetryPolicy::Linear { delay, .. } => delay,
            RetryPolicy::Exponential {
                min_delay,
                max_delay,
                ..
            } => {
                let factor = 1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX);
                min_delay.saturating_mul(factor).min(max_delay)
            }
        };
        let base = retry_after.map_or(base, Duration::from_secs).min(MAX_DELAY);
        Some(base + Duration::from_micros(rng.below(1_000_000)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_numbers_and_give_up() {
        let p = RetryPolicy::default_exponential();
        let mut rng = Rng::new(1);
        let secs: Vec<u64> = (1..=6)
            .map(|a| p.delay(a, None, &mut rng).unwrap().as_secs())
            .collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64]);
        assert_eq!(p.delay(7, None, &mut rng), None);
        assert_eq!(p.delay(0, None, &mut rng), None);
        let long = RetryPolicy::Exponential {
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(150),
            max_retries: 100,
        };
        assert_eq!(long.delay(90, None, &mut rng).unwrap().as_secs(), 150);
    }

    #[test]
    fn linear_retry_after_and_none() {
        let mut rng = Rng::new(1);
        let p = RetryPolicy::default_linear();
        let d = p.delay(3, None, &mut rng).unwrap();
        assert!(d >= Duration::from_secs(2) && d < Duration::from_secs(3));
        assert_eq!(p.delay(1, Some(7), &mut rng).unwrap().as_secs(), 7);
        assert_eq!(p.delay(11, None, &mut rng), None);
        assert_eq!(RetryPolicy::None.delay(1, None, &mut rng), None);
    }

    #[test]
    fn validation() {
        assert!(RetryPolicy::default_exponential().validate().is_ok());
        let bad = RetryPolicy::Exponential {
            min_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(1),
            max_retries: 1,
        };
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::InvalidRetryPolicy { .. })
        ));
        let zero = RetryPolicy::Exponential {
            min_delay: Duration::ZERO,
            max_delay: Duration::from_secs(1),
            max_retries: 1,
        };
        assert!(zero.validate().is_err());
        let slow = RetryPolicy::Linear {
            delay: MAX_DELAY + Duration::from_secs(1),
            max_retries: 1,
        };
        assert!(slow.validate().is_err());
        let many = RetryPolicy::Linear {
            delay: Duration::from_secs(2),
            max_retries: MAX_RETRIES + 1,
        };
        assert!(many.validate().is_err());
    }
}
