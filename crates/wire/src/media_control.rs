//! Control messages about media forwarding: which simulcast layer of a
//! sender's camera a receiver wants.
//!
//! A camera sends up to three simulcast layers ([`crate::simulcast`]); the
//! router forwards each receiver one of them per sender, chosen by the
//! receiver with [`Subscription`] (sent as
//! [`crate::control::ClientMessage::Subscribe`]). Until a receiver says
//! otherwise it gets [`DEFAULT_LAYER`] of everyone. On the wire:
//!
//! ```json
//! {"type":"subscribe","participant":7,"layer":2}
//! {"type":"subscribe","participant":7,"video":"off"}
//! ```

use serde::{Deserialize, Serialize};

use crate::ids::ParticipantId;
use crate::simulcast::LayerId;

/// The layer every receiver gets of every sender until it subscribes to
/// another: the lowest, because it is what a gallery tile needs and costs
/// a receiver least; a client showing someone large asks for more.
pub const DEFAULT_LAYER: LayerId = LayerId::Low;

/// Whether a receiver wants a sender's camera video at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoWish {
    /// Forward the layer named in the subscription (or [`DEFAULT_LAYER`]).
    #[default]
    On,
    /// Forward none of this sender's camera video (audio and screen share
    /// still come).
    Off,
}

impl VideoWish {
    /// Whether this is [`VideoWish::On`] (it is then left out of the JSON).
    pub fn is_on(&self) -> bool {
        *self == VideoWish::On
    }
}

/// A receiver's choice of one sender's camera video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The sender; must be someone else in the meeting.
    pub participant: ParticipantId,
    /// The simulcast layer, 0 (lowest) to 2; absent means [`DEFAULT_LAYER`].
    /// Ignored when `video` is `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u8>,
    /// `off` to receive no camera video from this sender.
    #[serde(default, skip_serializing_if = "VideoWish::is_on")]
    pub video: VideoWish,
}

/// What a valid [`Subscription`] asks the router to forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerChoice {
    /// This layer of the sender's camera.
    Layer(LayerId),
    /// None of the sender's camera video.
    Off,
}

impl Subscription {
    /// Asks for `layer` of `participant`'s camera.
    pub fn layer(participant: ParticipantId, layer: LayerId) -> Self {
        Subscription {
            participant,
            layer: Some(layer.as_u8()),
            video: VideoWish::On,
        }
    }

    /// Asks for none of `participant`'s camera video.
    pub fn off(participant: ParticipantId) -> Self {
        Subscription {
            participant,
            layer: None,
            video: VideoWish::Off,
        }
    }

    /// What this subscription asks for, or `None` if it names a layer that
    /// does not exist.
    pub fn choice(&self) -> Option<LayerChoice> {
        match (self.video, self.layer) {
            (VideoWish::Off, _) => Some(LayerChoice::Off),
            (VideoWish::On, None) => Some(LayerChoice::Layer(DEFAULT_LAYER)),
            (VideoWish::On, Some(l)) => LayerId::from_u8(l).map(LayerChoice::Layer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::ClientMessage;

    #[test]
    fn subscribe_messages_have_stable_json() {
        let m = ClientMessage::Subscribe(Subscription::layer(ParticipantId(7), LayerId::High));
        let json = String::from_utf8(m.encode()).unwrap();
        assert_eq!(json, r#"{"type":"subscribe","participant":7,"layer":2}"#);
        assert_eq!(ClientMessage::decode(json.as_bytes()).unwrap(), m);
        let off = ClientMessage::Subscribe(Subscription::off(ParticipantId(7)));
        let json = String::from_utf8(off.encode()).unwrap();
        assert_eq!(
            json,
            r#"{"type":"subscribe","participant":7,"video":"off"}"#
        );
        assert_eq!(ClientMessage::decode(json.as_bytes()).unwrap(), off);
    }

    #[test]
    fn choices_default_to_the_lowest_layer_and_reject_unknown_layers() {
        let decode = |s: &str| match ClientMessage::decode(s.as_bytes()) {
            Ok(ClientMessage::Subscribe(sub)) => Some(sub),
            _ => None,
        };
        let bare = decode(r#"{"type":"subscribe","participant":3}"#).unwrap();
        assert_eq!(bare.choice(), Some(LayerChoice::Layer(DEFAULT_LAYER)));
        let five = decode(r#"{"type":"subscribe","participant":3,"layer":5}"#).unwrap();
        assert_eq!(five.choice(), None);
        let off = decode(r#"{"type":"subscribe","participant":3,"layer":1,"video":"off"}"#);
        assert_eq!(off.unwrap().choice(), Some(LayerChoice::Off));
        assert!(decode(r#"{"type":"subscribe","participant":3,"video":"maybe"}"#).is_none());
        assert!(decode(r#"{"type":"subscribe","layer":1}"#).is_none());
        assert!(decode(r#"{"type":"subscribe","participant":3,"layer":300}"#).is_none());
    }
}
