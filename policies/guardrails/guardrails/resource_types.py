"""Pulumi type tokens of the resources the guardrails inspect (pulumi-aws 7.x)."""

from __future__ import annotations

from typing import Final

from platform_contracts import fargate_service as fargate_contract

AWS_PROVIDER: Final = "pulumi:providers:aws"

ECR_REPOSITORY: Final = "aws:ecr/repository:Repository"
ECR_LIFECYCLE_POLICY: Final = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_REGISTRY_SCANNING: Final = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"

LB: Final = "aws:lb/loadBalancer:LoadBalancer"
LB_TARGET_GROUP: Final = "aws:lb/targetGroup:TargetGroup"
LB_LISTENER: Final = "aws:lb/listener:Listener"
LB_LISTENER_RULE: Final = "aws:lb/listenerRule:ListenerRule"
# The same resources under their older `alb` module names (still accepted by pulumi-aws).
ALB: Final = "aws:alb/loadBalancer:LoadBalancer"
ALB_TARGET_GROUP: Final = "aws:alb/targetGroup:TargetGroup"
ALB_LISTENER: Final = "aws:alb/listener:Listener"
ALB_LISTENER_RULE: Final = "aws:alb/listenerRule:ListenerRule"

LOAD_BALANCERS: Final = frozenset({LB, ALB})
TARGET_GROUPS: Final = frozenset({LB_TARGET_GROUP, ALB_TARGET_GROUP})
LISTENERS: Final = frozenset({LB_LISTENER, ALB_LISTENER})
LISTENER_RULES: Final = frozenset({LB_LISTENER_RULE, ALB_LISTENER_RULE})

CLASSIC_ELB: Final = "aws:elb/loadBalancer:LoadBalancer"

WAFV2_WEB_ACL: Final = "aws:wafv2/webAcl:WebAcl"
WAFV2_WEB_ACL_ASSOCIATION: Final = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAFV2_WEB_ACL_LOGGING: Final = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

ECS_CLUSTER: Final = "aws:ecs/cluster:Cluster"
ECS_SERVICE: Final = "aws:ecs/service:Service"
ECS_TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
# The platform's Fargate service component: it registers its declared container as the input (and
# output) ``containerSpec``, made of plain values, so the container policies can check it at preview,
# where the task definition's containerDefinitions (which embeds the image digest) is unknown.
FARGATE_SERVICE: Final = fargate_contract.TYPE_TOKEN
CONTAINER_SPEC: Final = fargate_contract.CONTAINER_SPEC
CONTAINER_TYPES: Final = (ECS_TASK_DEFINITION, FARGATE_SERVICE)
"""Resources whose containers the container policies check (``containers()`` reads either)."""

ELASTICACHE_REPLICATION_GROUP: Final = "aws:elasticache/replicationGroup:ReplicationGroup"
ELASTICACHE_CLUSTER: Final = "aws:elasticache/cluster:Cluster"

RDS_INSTANCE: Final = "aws:rds/instance:Instance"
RDS_CLUSTER: Final = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE: Final = "aws:rds/clusterInstance:ClusterInstance"
RDS_SNAPSHOT: Final = "aws:rds/snapshot:Snapshot"
RDS_CLUSTER_SNAPSHOT: Final = "aws:rds/clusterSnapshot:ClusterSnapshot"

SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

LOG_GROUP: Final = "aws:cloudwatch/logGroup:LogGroup"

IAM_ROLE: Final = "aws:iam/role:Role"
IAM_POLICY: Final = "aws:iam/policy:Policy"
IAM_ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE_POLICY_ATTACHMENT: Final = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_POLICY_ATTACHMENT: Final = "aws:iam/policyAttachment:PolicyAttachment"
IAM_USER_POLICY_ATTACHMENT: Final = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_GROUP_POLICY_ATTACHMENT: Final = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_ACCESS_KEY: Final = "aws:iam/accessKey:AccessKey"
# Attach a whole list of policies, and detach any others (policyArns).
IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE: Final = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
IAM_USER_POLICY_ATTACHMENTS_EXCLUSIVE: Final = "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive"
IAM_GROUP_POLICY_ATTACHMENTS_EXCLUSIVE: Final = (
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive"
)

S3_BUCKET: Final = "aws:s3/bucket:Bucket"
S3_BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
S3_BUCKETS: Final = frozenset({S3_BUCKET, S3_BUCKET_V2})
S3_BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
S3_PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_ACL: Final = "aws:s3/bucketAcl:BucketAcl"
S3_BUCKET_ACL_V2: Final = "aws:s3/bucketAclV2:BucketAclV2"
S3_OBJECT: Final = "aws:s3/bucketObject:BucketObject"
S3_OBJECT_V2: Final = "aws:s3/bucketObjectv2:BucketObjectv2"
S3_ACCOUNT_PUBLIC_ACCESS_BLOCK: Final = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
S3_LIFECYCLE: Final = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
S3_LIFECYCLE_V2: Final = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
S3_OWNERSHIP_CONTROLS: Final = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_ENCRYPTION: Final = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_ENCRYPTION_V2: Final = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"

ECR_REPOSITORY_POLICY: Final = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ECR_REGISTRY_POLICY: Final = "aws:ecr/registryPolicy:RegistryPolicy"

KMS_KEY: Final = "aws:kms/key:Key"
KMS_KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"
KMS_REPLICA_KEY: Final = "aws:kms/replicaKey:ReplicaKey"

# Type tokens, not secrets.
SECRET: Final = "aws:secretsmanager/secret:Secret"  # noqa: S105
SECRET_POLICY: Final = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105
SECRET_ROTATION: Final = "aws:secretsmanager/secretRotation:SecretRotation"  # noqa: S105

SNS_TOPIC: Final = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY: Final = "aws:sns/topicPolicy:TopicPolicy"
SQS_QUEUE: Final = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY: Final = "aws:sqs/queuePolicy:QueuePolicy"
LAMBDA_PERMISSION: Final = "aws:lambda/permission:Permission"
LAMBDA_FUNCTION: Final = "aws:lambda/function:Function"

RDS_PARAMETER_GROUP: Final = "aws:rds/parameterGroup:ParameterGroup"

VPC: Final = "aws:ec2/vpc:Vpc"
DEFAULT_SECURITY_GROUP: Final = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
FLOW_LOG: Final = "aws:ec2/flowLog:FlowLog"
SUBNET: Final = "aws:ec2/subnet:Subnet"
SECURITY_GROUP_EGRESS_RULE: Final = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_INSTANCE: Final = "aws:ec2/instance:Instance"
EBS_VOLUME: Final = "aws:ebs/volume:Volume"

DYNAMODB_TABLE: Final = "aws:dynamodb/table:Table"
EFS_FILE_SYSTEM: Final = "aws:efs/fileSystem:FileSystem"
EFS_FILE_SYSTEM_POLICY: Final = "aws:efs/fileSystemPolicy:FileSystemPolicy"
BACKUP_VAULT: Final = "aws:backup/vault:Vault"
BACKUP_VAULT_POLICY: Final = "aws:backup/vaultPolicy:VaultPolicy"
EVENT_BUS_POLICY: Final = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
