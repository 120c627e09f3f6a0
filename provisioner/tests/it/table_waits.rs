//! A real-AWS behaviour moto does not reproduce (its tables are ACTIVE at once): a new table stays
//! CREATING for a while and refuses UpdateTimeToLive meanwhile. An interceptor fakes that at the SDK layer
//! (hand-written because moto cannot be told to delay), and converge must wait instead of failing.

use std::sync::{Arc, Mutex};

use crate::support::resources::tables;
use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::operation::update_time_to_live::UpdateTimeToLiveInput;
use aws_sdk_dynamodb::types::TableStatus;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::{Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use shopsmart_deploy::change::Action;
use shopsmart_deploy::names::TableKind;
use shopsmart_deploy::resources::Mode;

use crate::support::*;

/// After CreateTable, the next `creating_polls` DescribeTable answers say CREATING; UpdateTimeToLive sent
/// before the table was reported ACTIVE fails as real DynamoDB's ResourceInUseException would.
#[derive(Debug, Default)]
struct SlowTableCreation {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    created: bool,
    creating_answers: usize,
    seen_active: bool,
}

const CREATING_POLLS: usize = 3;

impl Intercept for SlowTableCreation {
    fn name(&self) -> &'static str {
        "SlowTableCreation"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut state = self.state.lock().unwrap();
        if context.input().downcast_ref::<CreateTableInput>().is_some() {
            state.created = true;
        }
        if context
            .input()
            .downcast_ref::<UpdateTimeToLiveInput>()
            .is_some()
            && state.created
            && !state.seen_active
        {
            return Err("ResourceInUseException (injected): the table is still CREATING".into());
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut state = self.state.lock().unwrap();
        let Some(Ok(output)) = context.output_or_error_mut() else {
            return Ok(());
        };
        let Some(describe) = output.downcast_mut::<DescribeTableOutput>() else {
            return Ok(());
        };
        if !state.created {
            return Ok(());
        }
        if state.creating_answers < CREATING_POLLS {
            state.creating_answers += 1;
            if let Some(table) = describe.table.as_mut() {
                table.table_status = Some(TableStatus::Creating);
            }
        } else {
            state.seen_active = true;
        }
        Ok(())
    }
}

#[tokio::test]
async fn converge_waits_for_a_creating_table_before_enabling_ttl() {
    let fault = Arc::new(SlowTableCreation::default());
    let interceptor = SharedInterceptor::new(ArcIntercept(fault.clone()));
    let ctx = ctx(
        test_config(&unique_stage(), "us-east-1"),
        Mode::Apply,
        &[interceptor],
    )
    .await;

    let change = tables::converge_table(&ctx, TableKind::Carts)
        .await
        .unwrap();
    assert_eq!(change.action, Action::Create);
    let (creating_answers, seen_active) = {
        let state = fault.state.lock().unwrap();
        (state.creating_answers, state.seen_active)
    };
    assert_eq!(
        creating_answers, CREATING_POLLS,
        "converge must poll through the CREATING answers"
    );
    assert!(seen_active);

    let ttl = ctx
        .aws
        .dynamodb
        .describe_time_to_live()
        .table_name(ctx.names.table(TableKind::Carts))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some("expiresAt")
    );
    tables::destroy(&ctx).await.unwrap();
}

/// `SharedInterceptor` takes ownership; this lets the test keep a handle on the state.
#[derive(Debug)]
struct ArcIntercept(Arc<SlowTableCreation>);

impl Intercept for ArcIntercept {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.read_before_execution(context, cfg)
    }
    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0
            .modify_before_attempt_completion(context, components, cfg)
    }
}
