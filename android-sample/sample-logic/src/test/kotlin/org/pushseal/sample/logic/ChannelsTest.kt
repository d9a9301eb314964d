package org.pushseal.sample.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Test

class ChannelsTest {
    @Test
    fun `known categories get their own channel`() {
        assertEquals(Channels.APPOINTMENTS, Channels.forCategory("appointment"))
        assertEquals(Channels.RESULTS, Channels.forCategory("lab_result"))
        assertEquals(Channels.RESULTS, Channels.forCategory("RESULTS"))
        assertEquals(Channels.MESSAGES, Channels.forCategory("message"))
    }

    @Test
    fun `unknown or missing categories go to the general channel`() {
        assertEquals(Channels.GENERAL, Channels.forCategory(null))
        assertEquals(Channels.GENERAL, Channels.forCategory(""))
        assertEquals(Channels.GENERAL, Channels.forCategory("oncology-followup-2291"))
    }

    @Test
    fun `channel ids are unique`() {
        assertEquals(Channels.ALL.size, Channels.ALL.map { it.id }.toSet().size)
    }

    @Test
    fun `message ids give stable notification ids that never collide with the fallback`() {
        val id = "0123456789abcdef0123456789abcdef"
        assertEquals(NotificationIds.forMessage(id), NotificationIds.forMessage(id))
        assertEquals(0x01234567, NotificationIds.forMessage(id))
        assertNotEquals(NotificationIds.forMessage(id), NotificationIds.forMessage("fedcba9876543210fedcba9876543210"))
        assertNotEquals(NotificationIds.FALLBACK, NotificationIds.forMessage("00000001" + "0".repeat(24)))
        assertEquals(0x7fffffff, NotificationIds.forMessage("ffffffff" + "0".repeat(24)))
    }

    @Test
    fun `an opened notification is planned on its category's channel`() {
        val plan = NotificationPlan.opened(
            messageId = "00000000000000000000000000000abc",
            title = "Appointment",
            body = "Tomorrow 10:00",
            category = "appointment",
            threadId = "visits",
            badge = 3,
        )
        assertEquals(Channels.APPOINTMENTS, plan.channel)
        assertEquals("Appointment", plan.title)
        assertEquals("Tomorrow 10:00", plan.body)
        assertEquals("visits", plan.group)
        assertEquals(3, plan.number)
        assertEquals("00000000000000000000000000000abc", plan.messageId)
    }

    @Test
    fun `a blank title or thread and an out of range badge are left out`() {
        val plan = NotificationPlan.opened("ab".repeat(16), " ", "Body", null, "", 5_000_000_000)
        assertEquals(null, plan.title, "the library's fallback title")
        assertEquals(null, plan.group)
        assertEquals(null, plan.number)
        assertEquals(Channels.GENERAL, plan.channel)
    }
}
