/* conn-list.c - intrusive FIFO lists of connections (RX schedule, timers). */
#include "config.h"

#include "device-int.h"

/* The link of c selected by link_off. */
static struct conn_link *
link_of(struct vsock_conn *c, size_t link_off)
{
	return (struct conn_link *)(void *)((char *)c + link_off);
}

void
conn_list_append(struct conn_list *l, struct vsock_conn *c, size_t link_off)
{
	struct conn_link *k = link_of(c, link_off);

	k->next = NULL;
	k->prev = l->tail;
	if (l->tail != NULL)
		link_of(l->tail, link_off)->next = c;
	else
		l->head = c;
	l->tail = c;
}

void
conn_list_unlink(struct conn_list *l, struct vsock_conn *c, size_t link_off)
{
	struct conn_link *k = link_of(c, link_off);

	if (k->prev != NULL)
		link_of(k->prev, link_off)->next = k->next;
	else
		l->head = k->next;
	if (k->next != NULL)
		link_of(k->next, link_off)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
}
