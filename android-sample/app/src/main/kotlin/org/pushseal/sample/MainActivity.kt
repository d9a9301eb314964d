package org.pushseal.sample

import android.Manifest
import android.content.Intent
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import android.text.format.DateUtils
import android.view.View
import android.widget.Button
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import androidx.core.content.ContextCompat
import androidx.lifecycle.lifecycleScope
import androidx.work.WorkInfo
import androidx.work.WorkManager
import com.google.firebase.messaging.FirebaseMessaging
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.pushseal.sample.logic.Registration
import org.pushseal.sample.logic.RegistrationPolicy

/**
 * The one screen: the device's key id and public key, the registration with
 * the sender, and the payloads that did not open.
 *
 * On first launch it creates the keyring (stored encrypted under an Android
 * Keystore key) and registers it as soon as Firebase hands over a token.
 */
class MainActivity : ComponentActivity() {
    private lateinit var keyIdView: TextView
    private lateinit var publicKeyView: TextView
    private lateinit var statusView: TextView
    private lateinit var lastTappedView: TextView
    private lateinit var failuresView: TextView
    private lateinit var registerButton: Button
    private lateinit var rotateButton: Button

    private val registrations by lazy { RegistrationStore(this) }
    private val failures by lazy { FailureStore(this) }
    private var current: DeviceKeys.Current? = null

    private val askForNotifications =
        registerForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
            if (!granted) statusView.text = "Notifications are off: PushSeal messages will not be shown"
        }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        keyIdView = findViewById(R.id.key_id)
        publicKeyView = findViewById(R.id.public_key)
        statusView = findViewById(R.id.status)
        lastTappedView = findViewById(R.id.last_tapped)
        failuresView = findViewById(R.id.failures)
        registerButton = findViewById(R.id.register)
        rotateButton = findViewById(R.id.rotate)

        registerButton.setOnClickListener { RegistrationWorker.enqueue(this) }
        rotateButton.setOnClickListener { rotate() }
        findViewById<Button>(R.id.clear_failures).setOnClickListener {
            failures.clear()
            showFailures()
        }

        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU &&
            ContextCompat.checkSelfPermission(this, Manifest.permission.POST_NOTIFICATIONS) !=
            PackageManager.PERMISSION_GRANTED
        ) {
            askForNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }

        FirebaseMessaging.getInstance().token.addOnCompleteListener(this) { task ->
            if (task.isSuccessful) {
                registrations.pushToken = task.result
                refresh()
            } else {
                statusView.text = "No FCM token yet: check google-services.json and the network"
            }
        }

        WorkManager.getInstance(this).getWorkInfosForUniqueWorkLiveData(RegistrationWorker.NAME)
            .observe(this) { infos -> showRegistration(infos.firstOrNull()?.state) }

        loadKeys()
        showTapped(intent)
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        showTapped(intent)
    }

    override fun onResume() {
        super.onResume()
        refresh()
    }

    /** Creates the keyring on first launch (the Keystore can take a moment), then shows it. */
    private fun loadKeys() {
        lifecycleScope.launch {
            val keys = withContext(Dispatchers.IO) {
                keyringResult { DeviceKeys.current(applicationContext) }
            }
            keys.onSuccess { showKeys(it) }.onFailure { e ->
                statusView.text = "The keyring is not available: ${kindOf(e).wireName}"
            }
        }
    }

    private fun rotate() {
        rotateButton.isEnabled = false
        lifecycleScope.launch {
            val keys = withContext(Dispatchers.IO) {
                keyringResult { DeviceKeys.rotate(applicationContext) }
            }
            rotateButton.isEnabled = true
            keys.onSuccess {
                showKeys(it)
                statusView.text = "Rotated: the previous key opens notifications for 28 more days"
            }.onFailure { e ->
                statusView.text = "Rotation failed: ${kindOf(e).wireName}"
            }
        }
    }

    private fun showKeys(keys: DeviceKeys.Current) {
        current = keys
        keyIdView.text = keys.keyId
        publicKeyView.text = keys.publicKey
        refresh()
    }

    /** Shows the failures, and registers if the key, the token or a failure calls for it. */
    private fun refresh() {
        showFailures()
        val keys = current ?: return
        val reason = RegistrationPolicy.reasonToRegister(
            registrations.state,
            keys.keyId,
            registrations.pushToken,
            failures.records(),
            currentHasVersion2 = keys.registration.startsWith(Registration.REGISTRATION_PREFIX),
        )
        if (reason != null) RegistrationWorker.enqueue(this)
    }

    private fun showRegistration(state: WorkInfo.State?) {
        val registered = registrations.state?.keyId
        statusView.text = when (state) {
            WorkInfo.State.ENQUEUED, WorkInfo.State.BLOCKED -> "Waiting for the network to register"
            WorkInfo.State.RUNNING -> "Registering"
            else -> registrations.lastMessage ?: if (registered == null) "Not registered yet" else "Registered key $registered"
        }
        registerButton.isEnabled = state != WorkInfo.State.RUNNING
    }

    private fun showFailures() {
        val records = failures.records()
        failuresView.text = if (records.isEmpty()) {
            getString(R.string.none)
        } else {
            records.asReversed().joinToString("\n") { record ->
                val ago = DateUtils.getRelativeTimeSpanString(record.atEpochSeconds * 1000)
                "${record.kind.wireName} (${record.action.specName})  $ago"
            }
        }
    }

    private fun showTapped(intent: Intent?) {
        val id = intent?.getStringExtra(EXTRA_MESSAGE_ID) ?: return
        lastTappedView.text = "Opened from notification $id"
        lastTappedView.visibility = View.VISIBLE
    }

    companion object {
        /** The PushSeal message id of the tapped notification. */
        const val EXTRA_MESSAGE_ID = "org.pushseal.sample.MESSAGE_ID"
    }
}
