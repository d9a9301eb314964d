package org.pushseal.sample

import android.app.Application

/** Creates the notification channels once per process, before any message can arrive. */
class SampleApplication : Application() {
    override fun onCreate() {
        super.onCreate()
        Notifier.createChannels(this)
    }
}
