/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal RDMA loopback for tests: two RC queue pairs of one Soft-RoCE
 * device (rxe0, IPv4-mapped GID index 1) connected to each other in one
 * process, so one posts RDMA WRITE/READ work requests against memory
 * registered by the same program. Plain libibverbs, no side channel.
 */
#ifndef _RDMA_LOOP_H
#define _RDMA_LOOP_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <infiniband/verbs.h>

#define RL_PORT		1
#define RL_GID_INDEX	1

struct rl {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp[2];
	union ibv_gid gid;
	enum ibv_mtu mtu;
	int timeout_s;	/* completion deadline of rl_rdma(); 0: 10 s */
	uint8_t qp_timeout;	/* local ACK timeout exponent (IB_QP_TIMEOUT) */
	char err[160];
};

static inline int rl_fail(struct rl *r, const char *what, int e)
{
	snprintf(r->err, sizeof(r->err), "%s: %s", what, strerror(e));
	return -e;
}

static inline int rl_qp_connect(struct rl *r, struct ibv_qp *qp, uint32_t dqpn)
{
	struct ibv_qp_attr a;

	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_INIT;
	a.port_num = RL_PORT;
	a.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			    IBV_ACCESS_REMOTE_READ;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		return rl_fail(r, "modify_qp INIT", errno);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = r->mtu;
	a.dest_qp_num = dqpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 12;
	a.ah_attr.is_global = 1;
	a.ah_attr.grh.dgid = r->gid;
	a.ah_attr.grh.sgid_index = RL_GID_INDEX;
	a.ah_attr.grh.hop_limit = 1;
	a.ah_attr.port_num = RL_PORT;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		return rl_fail(r, "modify_qp RTR", errno);
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = r->qp_timeout;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_TIMEOUT |
			  IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
			  IBV_QP_MAX_QP_RD_ATOMIC))
		return rl_fail(r, "modify_qp RTS", errno);
	return 0;
}

/*
 * Open @name (e.g. "rxe0") and connect two QPs to each other with path MTU
 * @mtu (the port's active MTU when 0), send queues of @sq_depth work
 * requests and the local ACK timeout exponent @qp_timeout (4.096 us *
 * 2^@qp_timeout before a retransmission; retries and RNR retries are
 * unlimited, 7).
 */
static inline int rl_open_cfg(struct rl *r, const char *name, enum ibv_mtu mtu,
			      uint32_t sq_depth, uint8_t qp_timeout)
{
	struct ibv_device **list;
	struct ibv_port_attr pa;
	struct ibv_qp_init_attr qa;
	int i, n, ret;

	memset(r, 0, sizeof(*r));
	r->qp_timeout = qp_timeout;
	list = ibv_get_device_list(&n);
	if (!list)
		return rl_fail(r, "ibv_get_device_list", errno);
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			r->ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	if (!r->ctx)
		return rl_fail(r, "no such RDMA device", ENODEV);
	if (ibv_query_port(r->ctx, RL_PORT, &pa))
		return rl_fail(r, "ibv_query_port", errno);
	r->mtu = mtu ? mtu : pa.active_mtu;
	if (ibv_query_gid(r->ctx, RL_PORT, RL_GID_INDEX, &r->gid))
		return rl_fail(r, "ibv_query_gid", errno);
	r->pd = ibv_alloc_pd(r->ctx);
	if (!r->pd)
		return rl_fail(r, "ibv_alloc_pd", errno);
	r->cq = ibv_create_cq(r->ctx, 16, NULL, NULL, 0);
	if (!r->cq)
		return rl_fail(r, "ibv_create_cq", errno);
	memset(&qa, 0, sizeof(qa));
	qa.send_cq = r->cq;
	qa.recv_cq = r->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = sq_depth;
	qa.cap.max_recv_wr = 8;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	for (i = 0; i < 2; i++) {
		r->qp[i] = ibv_create_qp(r->pd, &qa);
		if (!r->qp[i])
			return rl_fail(r, "ibv_create_qp", errno);
	}
	ret = rl_qp_connect(r, r->qp[0], r->qp[1]->qp_num);
	if (!ret)
		ret = rl_qp_connect(r, r->qp[1], r->qp[0]->qp_num);
	return ret;
}

/*
 * Open @name and connect two QPs with path MTU @mtu (the port's active MTU
 * when 0), 8-deep send queues and a 67 ms ACK timeout (exponent 14).
 */
static inline int rl_open_mtu(struct rl *r, const char *name, enum ibv_mtu mtu)
{
	return rl_open_cfg(r, name, mtu, 8, 14);
}

/* Open @name (e.g. "rxe0") and connect two QPs at the port's active MTU. */
static inline int rl_open(struct rl *r, const char *name)
{
	return rl_open_mtu(r, name, 0);
}

static inline void rl_close(struct rl *r)
{
	int i;

	for (i = 0; i < 2; i++)
		if (r->qp[i])
			ibv_destroy_qp(r->qp[i]);
	if (r->cq)
		ibv_destroy_cq(r->cq);
	if (r->pd)
		ibv_dealloc_pd(r->pd);
	if (r->ctx)
		ibv_close_device(r->ctx);
	memset(r, 0, sizeof(*r));
}

static inline struct ibv_mr *rl_reg(struct rl *r, void *addr, size_t len)
{
	struct ibv_mr *mr;

	mr = ibv_reg_mr(r->pd, addr, len, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!mr)
		rl_fail(r, "ibv_reg_mr", errno);
	return mr;
}

/*
 * One RDMA WRITE (@op IBV_WR_RDMA_WRITE: @local -> @remote) or READ
 * (@remote -> @local) of @len bytes on QP 0, waited for up to
 * @r->timeout_s seconds (10 if 0).
 * Returns 0, the work completion status as a positive number, or -errno.
 */
static inline int rl_rdma(struct rl *r, enum ibv_wr_opcode op,
			  struct ibv_mr *local, void *laddr,
			  struct ibv_mr *remote, void *raddr, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr, .length = len, .lkey = local->lkey,
	};
	struct ibv_send_wr wr, *bad;
	struct ibv_wc wc;
	struct timespec t0, t;
	int n;

	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 1;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)raddr;
	wr.wr.rdma.rkey = remote->rkey;
	if (ibv_post_send(r->qp[0], &wr, &bad))
		return rl_fail(r, "ibv_post_send", errno);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		n = ibv_poll_cq(r->cq, 1, &wc);
		if (n < 0)
			return rl_fail(r, "ibv_poll_cq", EIO);
		if (n)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > (r->timeout_s ? r->timeout_s : 10))
			return rl_fail(r, "no completion within the deadline", ETIMEDOUT);
	}
	if (wc.status != IBV_WC_SUCCESS) {
		snprintf(r->err, sizeof(r->err), "completion: %s",
			 ibv_wc_status_str(wc.status));
		return wc.status;
	}
	return 0;
}

#endif /* _RDMA_LOOP_H */
