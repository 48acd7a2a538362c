//! Error answers, shaped like the service's, and the common response builder.

use hyper::header::{
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE,
    HeaderValue,
};
use hyper::{Response, StatusCode};
use serde::Serialize;

use crate::body::Body;
use crate::json;

/// The `Content-Type` the service sends for every JSON answer.
pub(crate) const CONTENT_TYPE_JS: &str = "text/javascript; charset=\"UTF-8\"";

/// Which service an error body names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// The front door (`"Balancer"`): subscribe, limits, unknown paths.
    Balancer,
    /// `/v2/presence`.
    Presence,
    /// `/v1/channel-registration`.
    ChannelRegistry,
}

/// A request the server refuses; each variant's doc says who is at fault.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ApiError {
    /// The client sent malformed or missing arguments (400, object body).
    BadRequest { service: Service, message: String },
    /// A publish or signal refused with the array body `[0,"message","tt"]`.
    PublishRejected {
        status: u16,
        message: &'static str,
        timetoken: u64,
    },
    /// Access control denies these channels and groups (403).
    Forbidden {
        channels: Vec<String>,
        groups: Vec<String>,
    },
    /// The request's `signature` is missing or wrong (403).
    InvalidSignature,
    /// No such endpoint (404).
    NotFound,
    /// The request target is longer than allowed (414).
    UriTooLong,
    /// The request body is larger than allowed (413).
    BodyTooLarge,
}

impl ApiError {
    /// A 400 naming `service`.
    pub(crate) fn bad(service: Service, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            service,
            message: message.into(),
        }
    }

    /// The HTTP answer for this error.
    pub(crate) fn into_response(self) -> Response<Body> {
        match self {
            ApiError::BadRequest { service, message } => service_error(service, 400, &message),
            ApiError::PublishRejected { status, message, timetoken } => {
                let body = json::compact(&(0, message, timetoken.to_string()));
                respond(status, body)
            }
            ApiError::Forbidden { channels, groups } => forbidden(channels, groups),
            ApiError::InvalidSignature => respond(
                403,
                br#"{"message":"Invalid Signature","error":true,"service":"Access Manager","status":403}"#.to_vec(),
            ),
            ApiError::NotFound => service_error(Service::Balancer, 404, "Not Found"),
            ApiError::UriTooLong => service_error(Service::Balancer, 414, "Request URI Too Long"),
            ApiError::BodyTooLarge => service_error(Service::Balancer, 413, "Request Entity Too Large"),
        }
    }
}

/// The body of a 403 from Access Manager listing the denied resources.
fn forbidden(channels: Vec<String>, groups: Vec<String>) -> Response<Body> {
    #[derive(Serialize)]
    struct Payload {
        #[serde(skip_serializing_if = "Vec::is_empty")]
        channels: Vec<String>,
        #[serde(rename = "channel-groups", skip_serializing_if = "Vec::is_empty")]
        groups: Vec<String>,
    }
    #[derive(Serialize)]
    struct Forbidden {
        message: &'static str,
        payload: Payload,
        error: bool,
        service: &'static str,
        status: u16,
    }
    let body = Forbidden {
        message: "Forbidden",
        payload: Payload { channels, groups },
        error: true,
        service: "Access Manager",
        status: 403,
    };
    respond(403, json::compact(&body))
}

/// An object-shaped error body of `service` with `status` and `message`.
pub(crate) fn service_error(service: Service, status: u16, message: &str) -> Response<Body> {
    let body = match service {
        Service::Balancer => {
            #[derive(Serialize)]
            struct Balancer<'a> {
                status: u16,
                service: &'static str,
                error: bool,
                message: &'a str,
            }
            json::compact(&Balancer {
                status,
                service: "Balancer",
                error: true,
                message,
            })
        }
        Service::Presence => {
            #[derive(Serialize)]
            struct Presence<'a> {
                status: u16,
                message: &'a str,
                error: bool,
                service: &'static str,
            }
            json::spaced(&Presence {
                status,
                message,
                error: true,
                service: "Presence",
            })
        }
        Service::ChannelRegistry => {
            #[derive(Serialize)]
            struct Registry<'a> {
                status: u16,
                message: &'a str,
                service: &'static str,
                error: bool,
            }
            json::spaced(&Registry {
                status,
                message,
                service: "channel-registry",
                error: true,
            })
        }
    };
    respond(status, body)
}

/// A response with the service's headers and `body`.
pub(crate) fn respond(status: u16, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JS));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    response
}
