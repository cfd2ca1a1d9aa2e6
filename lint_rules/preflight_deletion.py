"""Deploy preflight, stateful resources: what CloudFormation does with their data is chosen, not defaulted.

cfn-lint loads this directory file by file, outside any package: this file imports nothing
from its siblings.

- E9009 every stateful resource (the KMS key, the queues, the table, the bucket, the secret and
  the log groups) states both DeletionPolicy and UpdateReplacePolicy. Without them a stack
  deletion, or a replacement (a changed name), deletes the resource and what it holds.
  DeletionPolicy `Retain` is refused too: it also keeps what a failed first deploy created, so
  the retry fails with AlreadyExists on every fixed name (and leaves an orphaned key);
  `RetainExceptOnCreate` keeps the resource on every other operation. UpdateReplacePolicy does
  not accept `RetainExceptOnCreate`.
"""

from cfnlint.rules import CloudFormationLintRule, RuleMatch

# The resource types of this stack that hold data (messages, items, objects, log events,
# key material, a secret value). cfn-lint's own I3011 covers a longer list but is informational.
STATEFUL_TYPES = [
    "AWS::KMS::Key",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
]

# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
DELETION_POLICIES = {"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"}
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html
UPDATE_REPLACE_POLICIES = {"Delete", "Retain", "Snapshot"}


class StatefulResourcesChooseDeletionAndReplacePolicies(CloudFormationLintRule):
    id = "E9009"
    shortdesc = "Stateful resources state DeletionPolicy and UpdateReplacePolicy"
    description = (
        "Each AWS::KMS::Key, AWS::SQS::Queue, AWS::DynamoDB::Table, AWS::S3::Bucket, "
        "AWS::SecretsManager::Secret and AWS::Logs::LogGroup sets DeletionPolicy and UpdateReplacePolicy "
        "explicitly, DeletionPolicy not Retain (RetainExceptOnCreate instead) and UpdateReplacePolicy not "
        "RetainExceptOnCreate, which it does not accept."
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html"
    tags = ["house", "preflight", "deletion"]

    def match(self, cfn):
        matches = []
        for name, resource in cfn.get_resources(STATEFUL_TYPES).items():
            deletion = resource.get("DeletionPolicy")
            replace = resource.get("UpdateReplacePolicy")
            if deletion is None:
                matches.append(
                    RuleMatch(["Resources", name], f"{resource['Type']} {name} has no DeletionPolicy: choose one")
                )
            elif deletion == "Retain":
                matches.append(
                    RuleMatch(
                        ["Resources", name, "DeletionPolicy"],
                        f"DeletionPolicy of {name} is Retain: a failed first deploy would leave it behind and the "
                        "retry fail with AlreadyExists; RetainExceptOnCreate keeps it on every other operation",
                    )
                )
            elif deletion not in DELETION_POLICIES:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "DeletionPolicy"],
                        f"DeletionPolicy of {name} is {deletion!r}, not one of {sorted(DELETION_POLICIES)}",
                    )
                )
            if replace is None:
                matches.append(
                    RuleMatch(["Resources", name], f"{resource['Type']} {name} has no UpdateReplacePolicy: choose one")
                )
            elif replace not in UPDATE_REPLACE_POLICIES:
                matches.append(
                    RuleMatch(
                        ["Resources", name, "UpdateReplacePolicy"],
                        f"UpdateReplacePolicy of {name} is {replace!r}, not one of {sorted(UPDATE_REPLACE_POLICIES)}",
                    )
                )
        return matches
