//! Asterisk Manager Interface (AMI) → canonical events. (Being written.)
