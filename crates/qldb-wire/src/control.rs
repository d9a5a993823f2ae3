//! The control-plane subset (`qldb`, REST-JSON, API version 2019-01-02; `spec/wire-protocol.md`
//! §6): CreateLedger, DescribeLedger, UpdateLedger, DeleteLedger, ListLedgers, GetDigest,
//! GetRevision and GetBlock. Timestamps are epoch seconds as JSON numbers; block addresses,
//! revisions, blocks and proofs travel as `{"IonText": …}`.

use crate::blob::Blob;
use crate::session::ValueHolder;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Ledger states.
pub const STATE_CREATING: &str = "CREATING";
pub const STATE_ACTIVE: &str = "ACTIVE";
pub const STATE_DELETING: &str = "DELETING";
pub const STATE_DELETED: &str = "DELETED";
/// The KMS key of ledgers that name none.
pub const AWS_OWNED_KMS_KEY: &str = "AWS_OWNED_KMS_KEY";
/// The `ResourceType` of ledger errors.
pub const RESOURCE_TYPE_LEDGER: &str = "LEDGER";

/// Epoch seconds with millisecond precision, as a JSON number.
pub fn epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// `POST /ledgers`. `Name` and `PermissionsMode` are required by the model; they are options
/// here so a server can name the missing one in its error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLedgerRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_mode: Option<String>,
    /// Defaults to `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// CreateLedger's response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateLedgerResponse {
    pub name: String,
    pub arn: String,
    pub state: String,
    pub creation_date_time: f64,
    pub permissions_mode: String,
    pub deletion_protection: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// `EncryptionDescription` of DescribeLedger and UpdateLedger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionDescription {
    pub kms_key_arn: String,
    /// `ENABLED` | `UPDATING` | `KMS_KEY_INACCESSIBLE`.
    pub encryption_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inaccessible_kms_key_date_time: Option<f64>,
}

/// `GET /ledgers/{name}`'s response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeLedgerResponse {
    pub name: String,
    pub arn: String,
    pub state: String,
    pub creation_date_time: f64,
    pub permissions_mode: String,
    pub deletion_protection: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_description: Option<EncryptionDescription>,
}

/// `PATCH /ledgers/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateLedgerRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
}

/// UpdateLedger's response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateLedgerResponse {
    pub name: String,
    pub arn: String,
    pub state: String,
    pub creation_date_time: f64,
    pub deletion_protection: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_description: Option<EncryptionDescription>,
}

/// One ledger of ListLedgers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LedgerSummary {
    pub name: String,
    pub state: String,
    pub creation_date_time: f64,
}

/// `GET /ledgers?max_results=&next_token=`'s response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListLedgersResponse {
    pub ledgers: Vec<LedgerSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `POST /ledgers/{name}/digest`'s response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetDigestResponse {
    /// 32 bytes.
    pub digest: Blob,
    pub digest_tip_address: ValueHolder,
}

/// `POST /ledgers/{name}/revision`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRevisionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_address: Option<ValueHolder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_tip_address: Option<ValueHolder>,
}

/// GetRevision's response; `Proof` only when a tip was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRevisionResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ValueHolder>,
    pub revision: ValueHolder,
}

/// `POST /ledgers/{name}/block`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetBlockRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_address: Option<ValueHolder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_tip_address: Option<ValueHolder>,
}

/// GetBlock's response; `Proof` only when a tip was given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetBlockResponse {
    pub block: ValueHolder,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ValueHolder>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn create_ledger_request_as_boto3_sends_it() {
        let r: CreateLedgerRequest = serde_json::from_str(
            r#"{"Name": "vehicle-registration", "PermissionsMode": "ALLOW_ALL", "DeletionProtection": false, "Tags": {"env": "test", "none": null}}"#,
        )
        .unwrap();
        assert_eq!(r.name.as_deref(), Some("vehicle-registration"));
        assert_eq!(r.permissions_mode.as_deref(), Some("ALLOW_ALL"));
        assert_eq!(r.deletion_protection, Some(false));
        assert_eq!(r.tags.unwrap().len(), 2);
        let minimal: CreateLedgerRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(minimal, CreateLedgerRequest::default());
    }

    #[test]
    fn describe_response_shape() {
        let d = DescribeLedgerResponse {
            name: "l".into(),
            arn: "arn:aws:qldb:us-east-1:000000000000:ledger/l".into(),
            state: STATE_ACTIVE.into(),
            creation_date_time: epoch_seconds(1_622_617_385_226),
            permissions_mode: "ALLOW_ALL".into(),
            deletion_protection: true,
            encryption_description: Some(EncryptionDescription {
                kms_key_arn: AWS_OWNED_KMS_KEY.into(),
                encryption_status: "ENABLED".into(),
                inaccessible_kms_key_date_time: None,
            }),
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({
                "Name": "l",
                "Arn": "arn:aws:qldb:us-east-1:000000000000:ledger/l",
                "State": "ACTIVE",
                "CreationDateTime": 1622617385.226,
                "PermissionsMode": "ALLOW_ALL",
                "DeletionProtection": true,
                "EncryptionDescription": {"KmsKeyArn": "AWS_OWNED_KMS_KEY", "EncryptionStatus": "ENABLED"}
            })
        );
    }

    #[test]
    fn digest_revision_and_block_shapes() {
        let g = GetDigestResponse {
            digest: Blob::new(vec![0u8; 32]),
            digest_tip_address: ValueHolder::text("{strandId:\"s\",sequenceNo:3}"),
        };
        assert_eq!(
            serde_json::to_value(&g).unwrap(),
            json!({"Digest": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                   "DigestTipAddress": {"IonText": "{strandId:\"s\",sequenceNo:3}"}})
        );
        let r: GetRevisionRequest = serde_json::from_str(
            r#"{"BlockAddress": {"IonText": "{strandId:\"s\",sequenceNo:1}"}, "DocumentId": "AAAAAAAAAAAAAAAAAAAAAA", "DigestTipAddress": {"IonText": "{strandId:\"s\",sequenceNo:3}"}}"#,
        )
        .unwrap();
        assert_eq!(r.document_id.as_deref(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
        assert!(r.digest_tip_address.is_some());
        let b = GetBlockResponse {
            block: ValueHolder::text("{}"),
            proof: None,
        };
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"Block": {"IonText": "{}"}})
        );
        let l = ListLedgersResponse {
            ledgers: vec![LedgerSummary {
                name: "a".into(),
                state: STATE_ACTIVE.into(),
                creation_date_time: 1.5,
            }],
            next_token: None,
        };
        assert_eq!(
            serde_json::to_value(&l).unwrap(),
            json!({"Ledgers": [{"Name": "a", "State": "ACTIVE", "CreationDateTime": 1.5}]})
        );
    }
}
