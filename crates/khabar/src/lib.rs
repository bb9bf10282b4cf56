//! khabar: an Arabic-first news publishing platform in one binary.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod articles;
pub mod assets;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod config;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod locale;
pub mod mail;
pub mod media;
pub mod newsletter;
pub mod polls;
pub mod search;
pub mod sections;
pub mod server;
pub mod settings;
pub mod signing;
pub mod site;
pub mod store;
pub mod templates;
pub mod web;
