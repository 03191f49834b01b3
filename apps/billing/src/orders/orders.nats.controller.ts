import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  OrderListRequest,
  OrderRefundRequest,
  OrderRequest,
  StripeWebhookRequest,
  Subjects,
  TopupCreateRequest,
  type OrderPage,
  type OrderView,
  type StripeWebhookResult,
} from '@torouter/contracts';
import { ZodPayloadPipe } from '@torouter/messaging';
import { NatsController } from '@torouter/service-runtime';
import { OrdersService } from './orders.service';

@NatsController()
export class OrdersNatsController {
  constructor(private readonly orders: OrdersService) {}

  @MessagePattern(Subjects.billingTopupCreate)
  createTopup(@Payload(new ZodPayloadPipe(TopupCreateRequest)) req: TopupCreateRequest): Promise<OrderView> {
    return this.orders.createTopup(req.accountId, req.amountUsd);
  }

  @MessagePattern(Subjects.billingOrderList)
  listOrders(@Payload(new ZodPayloadPipe(OrderListRequest)) req: OrderListRequest): Promise<OrderPage> {
    return this.orders.listOrders(req.accountId, req.status, req.cursor);
  }

  @MessagePattern(Subjects.billingOrderGet)
  getOrder(@Payload(new ZodPayloadPipe(OrderRequest)) req: OrderRequest): Promise<OrderView> {
    return this.orders.getOrder(req.accountId, req.orderId);
  }

  @MessagePattern(Subjects.billingOrderCancel)
  cancelOrder(@Payload(new ZodPayloadPipe(OrderRequest)) req: OrderRequest): Promise<OrderView> {
    return this.orders.cancelOrder(req.accountId, req.orderId);
  }

  @MessagePattern(Subjects.billingOrderRefund)
  refundOrder(@Payload(new ZodPayloadPipe(OrderRefundRequest)) req: OrderRefundRequest): Promise<OrderView> {
    return this.orders.refundOrder(req.accountId, req.orderId, req.reason);
  }

  @MessagePattern(Subjects.billingStripeWebhookHandle)
  handleStripeWebhook(
    @Payload(new ZodPayloadPipe(StripeWebhookRequest)) req: StripeWebhookRequest,
  ): Promise<StripeWebhookResult> {
    return this.orders.handleStripeWebhook(req.payload, req.signature);
  }
}
